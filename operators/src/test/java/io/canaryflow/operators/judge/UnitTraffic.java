package io.canaryflow.operators.judge;

import io.canaryflow.operators.latency.LatencyHistogram;
import io.canaryflow.operators.units.LatencySketch;
import io.canaryflow.operators.units.UnitSketch;
import java.util.SplittableRandom;

/**
 * Simulated traffic of units (users) as products see it: activity that differs by orders of
 * magnitude between units (Pareto: a few heavy units send much of the traffic) and an error rate of
 * each unit's own (gamma-distributed around the base rate), the units randomized to control or
 * candidate once, as routing does. Each window, a unit sends a Poisson number of scorings at its
 * activity, each failing at its own rate (times the candidate's effect when it is in the
 * candidate).
 */
final class UnitTraffic {
    /** The Pareto shape of the units' activity: 1.2 puts a third of the traffic on 2 % of units. */
    static final double HEAVY = 1.2;

    private final long[] hashes;
    private final double[] activity;
    private final double[] rate;
    private final boolean[] inCandidate;
    private final double[] latencyFactor;

    /**
     * Scoring latencies: log-normal around {@code medianMicros} with log-sd {@code sigma}, each
     * unit's own factor (log-normal, log-sd {@code unitSigma}: units whose inputs are slower), the
     * candidate's latencies times {@code candidateFactor} and a share {@code timeouts} of them at
     * {@code timeoutMicros}; judged by the latency guardrail of {@code ratio}.
     */
    /**
     * Late labels: a share {@code labelled} of the scorings gets one; each unit is wrong at a rate
     * of its own (gamma of shape {@code rateShape} around {@code errorRate}, drawn from the unit's
     * hash), the candidate's times {@code candidateFactor}. Judged on the labels' own unit sketch,
     * as the label join builds it, over the units {@code sampling} samples ({@code
     * labels.sample-rate}, the job's own hash).
     */
    record Labels(
            double labelled,
            double errorRate,
            double rateShape,
            double candidateFactor,
            io.canaryflow.operators.units.LabelSampling sampling) {
        Labels(double labelled, double errorRate, double rateShape, double candidateFactor) {
            this(
                    labelled,
                    errorRate,
                    rateShape,
                    candidateFactor,
                    io.canaryflow.operators.units.LabelSampling.ALL);
        }
    }

    private Labels labels;
    private double[] labelRate;

    /** These units with late labels (null: none). */
    UnitTraffic withLabels(Labels labels) {
        this.labels = labels;
        if (labels != null) {
            labelRate = new double[hashes.length];
            for (int u = 0; u < hashes.length; u++) {
                SplittableRandom own = new SplittableRandom(hashes[u] * 31 + 7);
                labelRate[u] =
                        Math.min(
                                1,
                                labels.errorRate()
                                        * gamma(own, labels.rateShape())
                                        / labels.rateShape());
            }
        }
        return this;
    }

    /**
     * Shadow scoring: the shadow decides differently from the served baseline on a share of each
     * unit's scorings of the unit's own (gamma of shape {@code rateShape} around {@code flipRate},
     * drawn from the unit's hash: some units' inputs lie near the threshold), times {@code factor}.
     */
    record Flips(double flipRate, double rateShape, double factor) {}

    /**
     * One window of a shadow experiment: every unit is served by the baseline (the control) and
     * scored by the shadow (the candidate) on the same events, which fail alike (A/A in errors);
     * the shadow's pairs are its scored events, flipped at the unit's own rate; {@code sketches}:
     * whether the arms carry their per-unit sketches.
     */
    Evidence shadowWindow(SplittableRandom random, int w, Flips flips, boolean sketches) {
        long attempts = 0;
        long errors = 0;
        long active = 0;
        long flipped = 0;
        UnitSketch units = new UnitSketch();
        UnitSketch pairUnits = new UnitSketch();
        for (int u = 0; u < hashes.length; u++) {
            long n = poisson(random, activity[u]);
            if (n == 0) {
                continue;
            }
            long x = binomial(random, n, rate[u]);
            SplittableRandom own = new SplittableRandom(hashes[u] * 17 + 3);
            double flipRate =
                    Math.min(
                            1,
                            flips.flipRate()
                                    * gamma(own, flips.rateShape())
                                    / flips.rateShape()
                                    * flips.factor());
            long k = binomial(random, n - x, flipRate);
            attempts += n;
            errors += x;
            active++;
            flipped += k;
            units.add(hashes[u], n, x, n - x, 0, 1);
            pairUnits.add(hashes[u], n - x, k, 0, 0, 0);
        }
        ArmCounts served = counts(attempts, errors, active, sketches ? units : null);
        ArmCounts shadow =
                served.withPairs(attempts - errors, flipped, sketches ? pairUnits : null);
        return new Evidence(w * 60_000L, (w + 1) * 60_000L, served, shadow, 0.5, true);
    }

    record Latency(
            double medianMicros,
            double sigma,
            double unitSigma,
            double candidateFactor,
            double timeouts,
            long timeoutMicros,
            double ratio) {}

    /**
     * @param units how many
     * @param activityShape the Pareto shape of the units' activity (smaller: heavier tail)
     * @param meanActivity a unit's mean scorings per window
     * @param baseRate the mean error rate
     * @param rateShape shape of the per-unit rates' gamma distribution (smaller: more spread)
     */
    UnitTraffic(
            SplittableRandom random,
            int units,
            double activityShape,
            double meanActivity,
            double baseRate,
            double rateShape) {
        hashes = new long[units];
        activity = new double[units];
        rate = new double[units];
        inCandidate = new boolean[units];
        latencyFactor = new double[units];
        double paretoMean = activityShape / (activityShape - 1);
        for (int u = 0; u < units; u++) {
            hashes[u] = UnitSketch.hash("user-" + random.nextLong());
            activity[u] =
                    meanActivity
                            / paretoMean
                            * Math.pow(1 - random.nextDouble(), -1 / activityShape);
            rate[u] = Math.min(1, baseRate * gamma(random, rateShape) / rateShape);
            inCandidate[u] = random.nextBoolean();
            // from the unit's own hash: the other draws stay as they were without latencies
            latencyFactor[u] = gaussian(new SplittableRandom(hashes[u]));
        }
    }

    /** The same units assigned to the arms anew (another randomization of one population). */
    void reassign(SplittableRandom random) {
        for (int u = 0; u < inCandidate.length; u++) {
            inCandidate[u] = random.nextBoolean();
        }
    }

    /**
     * One window of a canary ramp at {@code percent}: a unit takes part when its bucket (fixed,
     * uniform) is below the percent (the candidate) or in the mirrored range from 50 % (the
     * control), as routing's symmetric cohorts do. {@code activityFactor} scales every unit's
     * activity (diurnal swings), {@code rateFactor} every unit's error rate in both arms (a base
     * rate that drifts).
     */
    Evidence rampWindow(
            SplittableRandom random,
            int w,
            double percent,
            double errorFactor,
            double keptShare,
            double activityFactor,
            double rateFactor) {
        return rampWindow(
                random, w, percent, errorFactor, keptShare, activityFactor, rateFactor, null);
    }

    /**
     * As above, with each scoring's latency drawn from {@code latency} (null: none), the arms'
     * counts cut at the latency guardrail's bounds by the judge's own {@link WindowArms#cutAt}.
     */
    Evidence rampWindow(
            SplittableRandom random,
            int w,
            double percent,
            double errorFactor,
            double keptShare,
            double activityFactor,
            double rateFactor,
            Latency latency) {
        double p = percent / 100;
        return evidence(
                random,
                w,
                errorFactor,
                keptShare,
                activityFactor,
                rateFactor,
                true,
                latency,
                0.5,
                u -> {
                    double bucket = (hashes[u] >>> 11) * 0x1.0p-53;
                    return bucket < p ? 1 : bucket >= 0.5 && bucket < 0.5 + p ? 0 : -1;
                });
    }

    /**
     * One window of a two-variant A/B test: a unit is in the candidate (second variant) when its
     * bucket is below {@code share}, else in the control (first variant), as weights split them.
     */
    Evidence abWindow(SplittableRandom random, int w, double share, double errorFactor) {
        return evidence(
                random,
                w,
                errorFactor,
                1,
                1,
                1,
                true,
                null,
                share,
                u -> (hashes[u] >>> 11) * 0x1.0p-53 < share ? 1 : 0);
    }

    /**
     * One window of the fixed split ({@link #reassign}) with latencies drawn from {@code latency},
     * cut at the latency guardrail's bounds as the judge cuts them; {@code sketches}: whether the
     * arms carry their per-unit sketches (of latencies too).
     */
    Evidence latencyWindow(SplittableRandom random, int w, Latency latency, boolean sketches) {
        return evidence(random, w, 1, 1, 1, 1, sketches, latency, 0.5, u -> inCandidate[u] ? 1 : 0);
    }

    /**
     * One window.
     *
     * @param errorFactor the candidate's error rate as a multiple of what the unit has
     * @param keptShare the share of the candidate's scorings that reach monitoring (1: all)
     * @param sketches whether the arms carry their per-unit sketch
     */
    Evidence window(
            SplittableRandom random,
            int w,
            double errorFactor,
            double keptShare,
            boolean sketches) {
        return evidence(
                random,
                w,
                errorFactor,
                keptShare,
                1,
                1,
                sketches,
                null,
                0.5,
                u -> inCandidate[u] ? 1 : 0);
    }

    /**
     * A window's evidence: each unit in arm {@code armOf(u)} (1 candidate, 0 control, -1 out of the
     * experiment) sends a Poisson number of scorings at its activity, each failing at its own rate.
     */
    private Evidence evidence(
            SplittableRandom random,
            int w,
            double errorFactor,
            double keptShare,
            double activityFactor,
            double rateFactor,
            boolean sketches,
            Latency latency,
            double share,
            java.util.function.IntUnaryOperator armOf) {
        LatencyHistogram[] latencies = {new LatencyHistogram(), new LatencyHistogram()};
        LatencySketch.Builder[] latencyUnits = {
            new LatencySketch.Builder(), new LatencySketch.Builder()
        };
        long[] attempts = new long[2];
        long[] lost = new long[2];
        long[] errors = new long[2];
        UnitSketch[] units = {new UnitSketch(), new UnitSketch()};
        long[] active = new long[2];
        long[] labelled = new long[2];
        long[] wrong = new long[2];
        UnitSketch[] labelUnits = {new UnitSketch(), new UnitSketch()};
        for (int u = 0; u < hashes.length; u++) {
            int arm = armOf.applyAsInt(u);
            if (arm < 0) {
                continue;
            }
            long n = poisson(random, activity[u] * activityFactor);
            if (arm == 1 && keptShare < 1) {
                long kept = binomial(random, n, keptShare);
                lost[arm] += n - kept; // routing counted them; monitoring never saw them
                n = kept;
            }
            if (n == 0) {
                continue;
            }
            double rate0 = Math.min(1, rate[u] * rateFactor);
            long x = binomial(random, n, Math.min(1, arm == 1 ? rate0 * errorFactor : rate0));
            if (latency != null) {
                double median =
                        latency.medianMicros()
                                * Math.exp(latency.unitSigma() * latencyFactor[u])
                                * (arm == 1 ? latency.candidateFactor() : 1);
                for (long i = x; i < n; i++) {
                    long micros =
                            arm == 1 && random.nextDouble() < latency.timeouts()
                                    ? latency.timeoutMicros()
                                    : Math.round(
                                            median * Math.exp(latency.sigma() * gaussian(random)));
                    latencies[arm].add(micros);
                    latencyUnits[arm].add(hashes[u], micros);
                }
            }
            if (labels != null && labels.sampling().sampled(hashes[u])) {
                long l = binomial(random, n - x, labels.labelled());
                long k =
                        binomial(
                                random,
                                l,
                                Math.min(
                                        1,
                                        labelRate[u] * (arm == 1 ? labels.candidateFactor() : 1)));
                labelled[arm] += l;
                wrong[arm] += k;
                if (l > 0) {
                    labelUnits[arm].add(hashes[u], l, k, 0, 0, 0);
                }
            }
            attempts[arm] += n;
            errors[arm] += x;
            units[arm].add(hashes[u], n, x, n - x, 0, 1);
            active[arm]++;
        }
        ArmCounts control = counts(attempts[0], errors[0], active[0], sketches ? units[0] : null);
        ArmCounts candidate =
                counts(attempts[1], errors[1], active[1], sketches ? units[1] : null)
                        .withLost(lost[1]);
        if (labels != null) {
            control = control.withLabels(labelled[0], wrong[0], labelUnits[0]);
            candidate = candidate.withLabels(labelled[1], wrong[1], labelUnits[1]);
        }
        if (latency != null) {
            WindowArms cut =
                    new WindowArms(
                                    w * 60_000L,
                                    control,
                                    candidate,
                                    0,
                                    latencies[0].toSparse(),
                                    latencies[1].toSparse(),
                                    sketches ? latencyUnits[0].build() : null,
                                    sketches ? latencyUnits[1].build() : null)
                            .cutAt(latency.ratio());
            control = cut.control();
            candidate = cut.candidate();
        }
        return new Evidence(w * 60_000L, (w + 1) * 60_000L, control, candidate, share, true);
    }

    private static ArmCounts counts(long attempts, long errors, long active, UnitSketch units) {
        return ArmCounts.builder()
                .attempts(attempts)
                .errors(errors)
                .scored(attempts - errors)
                .activeUnits(units == null ? 0 : active)
                .units(units)
                .build();
    }

    static long poisson(SplittableRandom random, double mean) {
        if (mean > 50) { // normal approximation for heavy units
            return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(random)));
        }
        double limit = Math.exp(-mean);
        long k = 0;
        double product = random.nextDouble();
        while (product > limit) {
            k++;
            product *= random.nextDouble();
        }
        return k;
    }

    static long binomial(SplittableRandom random, long n, double p) {
        if (n > 200) {
            double mean = n * p;
            if (mean < 30) {
                return Math.min(n, poisson(random, mean));
            }
            double sd = Math.sqrt(n * p * (1 - p));
            return Math.max(0, Math.min(n, Math.round(mean + sd * gaussian(random))));
        }
        long k = 0;
        for (long i = 0; i < n; i++) {
            if (random.nextDouble() < p) {
                k++;
            }
        }
        return k;
    }

    static double gaussian(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    /** Gamma(shape, 1) by Marsaglia and Tsang (with the boost for shape below 1). */
    static double gamma(SplittableRandom random, double shape) {
        if (shape < 1) {
            return gamma(random, shape + 1) * Math.pow(random.nextDouble(), 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x = gaussian(random);
            double v = 1 + c * x;
            if (v <= 0) {
                continue;
            }
            v = v * v * v;
            double u = random.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                return d * v;
            }
        }
    }
}
