package io.canaryflow.operators.judge;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The judge's calibration table (docs/calibration.md): simulated canary rollouts through the full
 * ramp, judged after every window of 1 minute, on unit traffic ({@link UnitTraffic}: heavy-tailed
 * activity, per-unit error rates). Runs only with {@code -Dcalibration=true} (several minutes; the
 * bounded checks run in every build):
 *
 * <pre>mvn -pl operators test -Dtest=CalibrationReport -Dcalibration=true [-Dcalibration.runs=N]
 * </pre>
 */
class CalibrationReport {
    /** Units in the experiment's population; a 1 % step holds 1 % of them per arm. */
    static final int UNITS = Integer.getInteger("calibration.units", 20_000);

    /**
     * The Pareto shape of the units' activity (smaller: heavier) and the gamma shape of their
     * rates.
     */
    static final double SHAPE = Double.parseDouble(System.getProperty("calibration.shape", "1.2"));

    static final double RATE_SHAPE =
            Double.parseDouble(System.getProperty("calibration.rate-shape", "0.5"));

    record Scenario(
            String name,
            String truth,
            String guardrail,
            double baseRate,
            double errorFactor,
            double keptShare,
            boolean diurnal,
            boolean drifting,
            UnitTraffic.Latency latency,
            UnitTraffic.Labels labels,
            double abShare,
            UnitTraffic.Flips flips) {
        Scenario(
                String name,
                String truth,
                String guardrail,
                double baseRate,
                double errorFactor,
                double keptShare,
                boolean diurnal,
                boolean drifting) {
            this(
                    name,
                    truth,
                    guardrail,
                    baseRate,
                    errorFactor,
                    keptShare,
                    diurnal,
                    drifting,
                    null,
                    null,
                    0,
                    null);
        }

        /** A latency scenario: A/A in errors (2 %), the latency guardrail {@code guardrail}. */
        static Scenario latency(
                String name, String truth, String guardrail, UnitTraffic.Latency latency) {
            return new Scenario(
                    name, truth, guardrail, 0.02, 1, 1, false, false, latency, null, 0, null);
        }

        /**
         * A two-variant A/B test at 2 % errors, the candidate at {@code share} of the units and
         * {@code factor} times the control's error rate.
         */
        static Scenario ab(
                String name, String truth, String guardrail, double share, double factor) {
            return new Scenario(
                    name, truth, guardrail, 0.02, factor, 1, false, false, null, null, share, null);
        }

        /**
         * A label scenario: A/A in inference errors (2 %), the label guardrail {@code guardrail}.
         */
        static Scenario labels(
                String name, String truth, String guardrail, UnitTraffic.Labels labels) {
            return new Scenario(
                    name, truth, guardrail, 0.02, 1, 1, false, false, null, labels, 0, null);
        }

        /**
         * The shadow phase of a shadow experiment (2 % inference errors, alike in both), judged on
         * {@code guardrail} until it passes into a canary, is rolled back or times out.
         */
        static Scenario shadow(
                String name, String truth, String guardrail, UnitTraffic.Flips flips) {
            return new Scenario(
                    name, truth, guardrail, 0.02, 1, 1, false, false, null, null, 0, flips);
        }
    }

    /**
     * One scenario's rollouts: how each ended (rolled back or promoted by evidence, or INCONCLUSIVE
     * at a maximum duration), when (minutes of event time from the start), and what the
     * fixed-horizon reference test says on the same data at the same end point.
     */
    record Row(
            Scenario s,
            int runs,
            int rollbacks,
            int promotions,
            int undecided,
            int promotedWithin7h,
            double[] rollbackMinutes,
            double[] promoteMinutes,
            double[] referenceHarmZ,
            double[] referencePassZ) {
        /** The rollouts in which the reference shows harm at 5 %. */
        int referenceHarm() {
            return beyond(referenceHarmZ, Reference.Z95);
        }

        /** The rollouts in which the reference shows the candidate within the margin at 5 %. */
        int referencePass() {
            return beyond(referencePassZ, Reference.Z95);
        }

        static int beyond(double[] z, double critical) {
            return (int) java.util.Arrays.stream(z).filter(x -> x > critical).count();
        }

        double medianWindows() {
            return percentile(all(), 0.5);
        }

        double[] all() {
            double[] a = new double[rollbackMinutes.length + promoteMinutes.length];
            System.arraycopy(rollbackMinutes, 0, a, 0, rollbackMinutes.length);
            System.arraycopy(promoteMinutes, 0, a, rollbackMinutes.length, promoteMinutes.length);
            return a;
        }
    }

    /** The policy the targets name: the defaults, with {@code guardrail}. */
    static RolloutPolicy policy(String guardrail) {
        return RolloutPolicy.fromFields(Map.of("guardrails", guardrail), "");
    }

    static Row run(Scenario s, int runs, long seed) {
        return run(s, runs, seed, UNITS, SHAPE, RATE_SHAPE);
    }

    /**
     * {@code runs} rollouts of the scenario on a population of {@code units} units, their activity
     * Pareto of {@code shape}, their rates gamma of {@code rateShape}.
     */
    static Row run(Scenario s, int runs, long seed, int units, double shape, double rateShape) {
        SplittableRandom random = new SplittableRandom(seed);
        int rollbacks = 0;
        int promotions = 0;
        int undecided = 0;
        int within7h = 0;
        double[] referenceHarmZ = new double[runs];
        double[] referencePassZ = new double[runs];
        List<Double> rollbackAt = new ArrayList<>();
        List<Double> promoteAt = new ArrayList<>();
        RolloutPolicy policy = policy(s.guardrail());
        Guardrail g = policy.guardrails().get(0);
        for (int r = 0; r < runs; r++) {
            UnitTraffic traffic =
                    new UnitTraffic(random, units, shape, 3.0, s.baseRate(), rateShape)
                            .withLabels(s.labels());
            Judge judge =
                    s.flips() != null
                            ? Judge.forShadow(policy)
                            : s.abShare() > 0 ? Judge.forAb(policy) : new Judge(policy);
            Verdict last = null;
            ArmCounts control = ArmCounts.NONE;
            ArmCounts candidate = ArmCounts.NONE;
            int w = 0;
            while (!judge.done()
                    && w < 10_000
                    && !(last != null && last.action() == Verdict.Action.INCONCLUSIVE)
                    && !(s.flips() != null
                            && last != null
                            && last.action() == Verdict.Action.ADVANCE)) {
                Evidence e;
                if (s.flips() != null) {
                    e = traffic.shadowWindow(random, w, s.flips(), true);
                } else {
                    double activity = s.diurnal() ? 1 + 0.8 * Math.sin(2 * Math.PI * w / 240.0) : 1;
                    double drift = s.drifting() ? 1 + 0.5 * w / 240.0 : 1;
                    e =
                            s.abShare() > 0
                                    ? traffic.abWindow(random, w, s.abShare(), s.errorFactor())
                                    : traffic.rampWindow(
                                            random,
                                            w,
                                            judge.currentPercent(),
                                            s.errorFactor(),
                                            s.keptShare(),
                                            activity,
                                            drift,
                                            s.latency());
                }
                last = judge.judge(e);
                if (e.control().attempts() > 0 && e.candidate().attempts() > 0) {
                    control = control.plus(e.control());
                    candidate = candidate.plus(e.candidate());
                }
                w++;
            }
            Reference ref = Reference.of(g, control, candidate, policy.alpha());
            referenceHarmZ[r] = ref.harmZ();
            referencePassZ[r] = ref.passZ();
            if (last.timedOut()) {
                undecided++;
            } else if (last.action() == Verdict.Action.ROLLBACK) {
                rollbacks++;
                rollbackAt.add((double) w);
            } else if (last.action() == Verdict.Action.PROMOTE
                    || last.action() == Verdict.Action.ADVANCE) {
                promotions++;
                promoteAt.add((double) w);
                within7h += w <= 7 * 60 ? 1 : 0;
            } else {
                undecided++;
            }
        }
        return new Row(
                s,
                runs,
                rollbacks,
                promotions,
                undecided,
                within7h,
                rollbackAt.stream().mapToDouble(Double::doubleValue).sorted().toArray(),
                promoteAt.stream().mapToDouble(Double::doubleValue).sorted().toArray(),
                referenceHarmZ,
                referencePassZ);
    }

    /** The q-quantile of sorted values (NaN when there are none). */
    static double percentile(double[] values, double q) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        java.util.Arrays.sort(sorted);
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }

    /** The names of {@link #scenarios}. */
    static Set<String> scenarioNames() {
        Set<String> names = new java.util.HashSet<>();
        scenarios().forEach(s -> names.add(s.name()));
        return names;
    }

    /** The names in {@link #BOUNDARIES} that are not among {@code names}, sorted. */
    static List<String> unknownBoundaryNames(Set<String> names) {
        return BOUNDARIES.entrySet().stream()
                .flatMap(e -> java.util.stream.Stream.of(e.getKey(), e.getValue()))
                .filter(n -> !names.contains(n))
                .distinct()
                .sorted()
                .toList();
    }

    @Test
    void report() {
        Assumptions.assumeTrue(Boolean.getBoolean("calibration"), "-Dcalibration=true runs it");
        int runs = Integer.getInteger("calibration.runs", 200);
        List<Scenario> scenarios = scenarios();
        List<String> unknown = unknownBoundaryNames(scenarioNames());
        if (!unknown.isEmpty()) {
            throw new IllegalStateException("BOUNDARIES names no scenario: " + unknown);
        }
        String only = System.getProperty("calibration.only", "");
        String except = System.getProperty("calibration.except", "");
        // one name or several, separated by '|'; each scenario's seed is its place in the list,
        // so that a subset reproduces the full table's rows
        long seed = 20261129;
        Map<String, Long> seeds = new java.util.HashMap<>();
        Map<String, Scenario> byName = new java.util.HashMap<>();
        for (Scenario s : scenarios) {
            seeds.put(s.name(), seed++);
            byName.put(s.name(), s);
        }
        scenarios =
                scenarios.stream()
                        .filter(
                                s ->
                                        java.util.Arrays.stream(only.split("\\|"))
                                                .anyMatch(o -> s.name().contains(o)))
                        .filter(
                                s ->
                                        except.isEmpty()
                                                || java.util.Arrays.stream(except.split("\\|"))
                                                        .noneMatch(o -> s.name().contains(o)))
                        .toList();
        Map<String, Row> rows = new java.util.HashMap<>();
        java.util.function.Function<String, Row> rowOf =
                name -> rows.computeIfAbsent(name, n -> run(byName.get(n), runs, seeds.get(n)));
        StringBuilder table = new StringBuilder();
        table.append(
                "| scenario | guardrail | which null | runs | rolled back | promoted | inconclusive (timeout) | promoted within 7 h | minutes to roll back: median, p90 | minutes to promote: median, p90 | reference z-test at the end point: harm shown | within the margin shown | size-adjusted reference: harm shown | within the margin shown |\n");
        table.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Scenario s : scenarios) {
            Row r = rowOf.apply(s.name());
            String boundary = BOUNDARIES.get(s.name());
            Row b = boundary == null ? null : rowOf.apply(boundary);
            table.append(
                    String.format(
                            "| %s | `%s` | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n",
                            s.name(),
                            s.guardrail(),
                            s.truth(),
                            r.runs(),
                            share(r.rollbacks(), runs),
                            share(r.promotions(), runs),
                            share(r.undecided(), runs),
                            share(r.promotedWithin7h(), runs),
                            times(r.rollbackMinutes()),
                            times(r.promoteMinutes()),
                            share(r.referenceHarm(), runs),
                            share(r.referencePass(), runs),
                            b == null ? "—" : sizeAdjusted(r.referenceHarmZ(), b.referenceHarmZ()),
                            b == null
                                    ? "—"
                                    : sizeAdjusted(r.referencePassZ(), b.referencePassZ())));
            System.out.println(
                    "ROW "
                            + table.substring(table.lastIndexOf("\n", table.length() - 2) + 1)
                                    .trim());
        }
        System.out.printf(
                "%nCALIBRATION: %d units, activity Pareto %.1f, rates gamma shape %.1f%n%s",
                UNITS, SHAPE, RATE_SHAPE, table);
        System.out.println(
                "Monte-Carlo standard error of a share p over "
                        + runs
                        + " runs: sqrt(p(1-p)/"
                        + runs
                        + "), e.g. "
                        + String.format("%.1f", 100 * Math.sqrt(0.05 * 0.95 / runs))
                        + " points at 5 %.");
    }

    /** Every scenario of the tables, in the order that gives each its seed. */
    static List<Scenario> scenarios() {
        String rel = "inference_error_rate:+50%:critical:margin=+50%";
        String abs2 = "inference_error_rate:0.01:critical";
        String p99 = "latency_p99_ratio:1.5:critical";
        String lab = "label_error_rate:+50%:critical:margin=+50%";
        String labAbs = "label_error_rate:0.02:critical";
        String flip = "flip_rate:0.02:critical";
        String defaults = "inference_error_rate:0.01:critical";
        String rel1 = "inference_error_rate:+50%:critical";
        return List.of(
                new Scenario(
                        "A/A, 0.1 %, default guardrail",
                        "null (harm)", defaults, 0.001, 1, 1, false, false),
                new Scenario(
                        "2 x the errors at a 1 % base",
                        "null (pass)", rel1, 0.01, 2, 1, false, false),
                new Scenario(
                        "6 x the errors at a 0.1 % base",
                        "null (pass)", rel1, 0.001, 6, 1, false, false),
                Scenario.latency(
                        "p99 2.2 x the control's (0.7 % timeouts at 1 s)",
                        "null (pass)", p99, latency(1.78, 0.007, 0)),
                new Scenario(
                        "loses 2 % of its requests unreported, default guardrail",
                        "lost scorings", defaults, 0.001, 1, 0.98, false, false),
                new Scenario("A/A, 2 %", "null (harm)", rel, 0.02, 1, 1, false, false),
                new Scenario("A/A, 0.1 %", "null (harm)", rel, 0.001, 1, 1, false, false),
                new Scenario("A/A, 0.01 %", "null (harm)", rel, 0.0001, 1, 1, false, false),
                new Scenario(
                        "A/A, 2 %, diurnal, base rate drifting +50 % over 4 h",
                        "null (harm)", rel, 0.02, 1, 1, true, true),
                new Scenario(
                        "exactly at +50 %, 2 %", "null (both)", rel, 0.02, 1.5, 1, false, false),
                new Scenario(
                        "exactly at +50 %, 0.1 %", "null (both)", rel, 0.001, 1.5, 1, false, false),
                new Scenario(
                        "just better: +25 %, 2 %", "null (harm)", rel, 0.02, 1.25, 1, false, false),
                new Scenario(
                        "just worse: +100 %, 2 %", "null (pass)", rel, 0.02, 2, 1, false, false),
                new Scenario(
                        "just worse: +100 %, 0.1 %", "null (pass)", rel, 0.001, 2, 1, false, false),
                new Scenario(
                        "A/A, 2 %, absolute +1 point",
                        "null (harm)", abs2, 0.02, 1, 1, false, false),
                new Scenario(
                        "+1 point exactly (3 % vs 2 %), absolute",
                        "null (both)", abs2, 0.02, 1.5, 1, false, false),
                new Scenario(
                        "+0.1 point exactly (0.2 % vs 0.1 %), absolute",
                        "null (both)",
                        "inference_error_rate:0.001:critical",
                        0.001,
                        2,
                        1,
                        false,
                        false),
                new Scenario(
                        "+0.01 point exactly (0.02 % vs 0.01 %), absolute",
                        "null (both)",
                        "inference_error_rate:0.0001:critical",
                        0.0001,
                        2,
                        1,
                        false,
                        false),
                new Scenario(
                        "drops 10 % of its scorings, 2 %", "SRM", rel, 0.02, 1, 0.9, false, false),
                Scenario.latency(
                        "latency A/A (log-normal, median 5 ms)",
                        "null (harm)",
                        p99,
                        latency(1, 0, 0)),
                Scenario.latency(
                        "latency A/A, units differing in speed (log-sd 0.5)",
                        "null (harm)",
                        p99,
                        latency(1, 0, 0.5)),
                Scenario.latency(
                        "latency A/A, units differing widely in speed (log-sd 1)",
                        "null (harm)",
                        p99,
                        latency(1, 0, 1)),
                Scenario.latency(
                        "latency exactly at the bound: 1.5 x slower",
                        "null (both)",
                        p99,
                        latency(1.5, 0, 0)),
                Scenario.latency(
                        "latency exactly at the bound, units differing in speed (log-sd 0.5)",
                        "null (both)",
                        p99,
                        latency(1.5, 0, 0.5)),
                Scenario.latency(
                        "latency exactly at the bound, units differing widely in speed (log-sd 1)",
                        "null (both)",
                        p99,
                        latency(1.5, 0, 1)),
                Scenario.latency(
                        "latency just better: 1.3 x slower",
                        "null (harm)",
                        p99,
                        latency(1.3, 0, 0)),
                Scenario.latency(
                        "latency just worse: 1.8 x slower", "null (pass)", p99, latency(1.8, 0, 0)),
                Scenario.latency(
                        "latency: 2 % timeouts at 1 s (p99 = 1 s)",
                        "null (pass)", p99, latency(1, 0.02, 0)),
                Scenario.labels(
                        "labels A/A (half labelled, 10 % wrong)", "null (harm)", lab, labels(1)),
                Scenario.labels("labels exactly at +50 %", "null (both)", lab, labels(1.5)),
                Scenario.labels("labels just worse: +100 %", "null (pass)", lab, labels(2)),
                Scenario.labels("labels A/A, absolute +2 points", "null (harm)", labAbs, labels(1)),
                Scenario.labels(
                        "labels exactly +2 points (12 % vs 10 %)",
                        "null (both)", labAbs, labels(1.2)),
                Scenario.labels(
                        "labels A/A, 10 % of units sampled",
                        "null (harm)", lab, sampled(labels(1), 0.1)),
                Scenario.labels(
                        "labels exactly at +50 %, 10 % of units sampled",
                        "null (both)", lab, sampled(labels(1.5), 0.1)),
                Scenario.labels(
                        "labels just worse: +100 %, 10 % of units sampled",
                        "null (pass)", lab, sampled(labels(2), 0.1)),
                Scenario.ab("A/B 50/50, A/A, 2 %", "null (harm)", rel, 0.5, 1),
                Scenario.ab("A/B 90/10, A/A, 2 %", "null (harm)", rel, 0.1, 1),
                Scenario.ab("A/B 90/10, exactly at +50 %", "null (both)", rel, 0.1, 1.5),
                Scenario.ab("A/B 90/10, twice the errors", "null (pass)", rel, 0.1, 2),
                Scenario.shadow(
                        "shadow phase: flips at half the threshold (1 %)",
                        "null (harm)", flip, flips(0.5)),
                Scenario.shadow(
                        "shadow phase: flips exactly at the threshold (2 %)",
                        "null (both)", flip, flips(1)),
                Scenario.shadow(
                        "shadow phase: flips at 1.5 x the threshold (3 %)",
                        "null (pass)", flip, flips(1.5)),
                // last, so that the rows above keep their seeds
                new Scenario(
                        "exactly at +50 % at a 1 % base",
                        "null (both)", rel1, 0.01, 1.5, 1, false, false));
    }

    /**
     * Each power scenario's boundary: the scenario exactly at the guardrail's threshold (and
     * margin) on the same base rate, split and population, whose reference z statistics give the
     * critical value at which the reference's own false decisions are α (its size-adjusted power).
     * None for latency: the judge's cut is the upper bound of the control's p99, so at the bound
     * the reference's share above it lies far below 1 % (z near −40) and says nothing of its size.
     */
    static final Map<String, String> BOUNDARIES =
            Map.ofEntries(
                    Map.entry("2 x the errors at a 1 % base", "exactly at +50 % at a 1 % base"),
                    Map.entry("6 x the errors at a 0.1 % base", "exactly at +50 %, 0.1 %"),
                    Map.entry("A/A, 2 %", "exactly at +50 %, 2 %"),
                    Map.entry("A/A, 0.1 %", "exactly at +50 %, 0.1 %"),
                    Map.entry("just better: +25 %, 2 %", "exactly at +50 %, 2 %"),
                    Map.entry("just worse: +100 %, 2 %", "exactly at +50 %, 2 %"),
                    Map.entry("just worse: +100 %, 0.1 %", "exactly at +50 %, 0.1 %"),
                    Map.entry(
                            "A/A, 2 %, absolute +1 point",
                            "+1 point exactly (3 % vs 2 %), absolute"),
                    Map.entry("labels A/A (half labelled, 10 % wrong)", "labels exactly at +50 %"),
                    Map.entry("labels just worse: +100 %", "labels exactly at +50 %"),
                    Map.entry(
                            "labels A/A, absolute +2 points",
                            "labels exactly +2 points (12 % vs 10 %)"),
                    Map.entry(
                            "labels A/A, 10 % of units sampled",
                            "labels exactly at +50 %, 10 % of units sampled"),
                    Map.entry(
                            "labels just worse: +100 %, 10 % of units sampled",
                            "labels exactly at +50 %, 10 % of units sampled"),
                    Map.entry("A/B 90/10, A/A, 2 %", "A/B 90/10, exactly at +50 %"),
                    Map.entry("A/B 90/10, twice the errors", "A/B 90/10, exactly at +50 %"),
                    Map.entry(
                            "shadow phase: flips at half the threshold (1 %)",
                            "shadow phase: flips exactly at the threshold (2 %)"),
                    Map.entry(
                            "shadow phase: flips at 1.5 x the threshold (3 %)",
                            "shadow phase: flips exactly at the threshold (2 %)"));

    /**
     * The share of {@code z} beyond the critical value that the boundary's {@code nullZ} exceed in
     * 5 % of its rollouts (their 95th percentile), and that critical value: the reference's power
     * were it run at its true size α rather than at the normal quantile CR0 overstates.
     */
    static String sizeAdjusted(double[] z, double[] nullZ) {
        double critical = criticalValue(nullZ);
        return String.format(
                "%.1f %% (z > %.2f)", 100.0 * Row.beyond(z, critical) / z.length, critical);
    }

    /** The 95th percentile of a boundary scenario's z statistics: its test's α-level cut. */
    static double criticalValue(double[] nullZ) {
        return percentile(nullZ, 0.95);
    }

    /**
     * Latencies log-normal around 5 ms (log-sd 0.5), the candidate's {@code factor} times slower,
     * {@code timeouts} of its scorings at 1 s, units' own speeds spread by log-sd {@code
     * unitSigma}; judged at the ratio 1.5.
     */
    static UnitTraffic.Latency latency(double factor, double timeouts, double unitSigma) {
        return new UnitTraffic.Latency(5_000, 0.5, unitSigma, factor, timeouts, 1_000_000, 1.5);
    }

    /**
     * The shadow flips decisions on {@code factor} × 2 % of each unit's scorings on average, each
     * unit at a rate of its own (gamma of the population's rate shape).
     */
    static UnitTraffic.Flips flips(double factor) {
        return new UnitTraffic.Flips(0.02, RATE_SHAPE, factor);
    }

    /** Half the scorings labelled, units wrong at 10 % on average (gamma shape 2). */
    static UnitTraffic.Labels labels(double candidateFactor) {
        return new UnitTraffic.Labels(0.5, 0.10, 2, candidateFactor);
    }

    /** The labels of the units {@code labels.sample-rate: rate} samples alone. */
    static UnitTraffic.Labels sampled(UnitTraffic.Labels l, double rate) {
        return new UnitTraffic.Labels(
                l.labelled(),
                l.errorRate(),
                l.rateShape(),
                l.candidateFactor(),
                io.canaryflow.operators.units.LabelSampling.of(rate, "labels"));
    }

    static String times(double[] minutes) {
        return minutes.length == 0
                ? "—"
                : String.format("%.0f, %.0f", percentile(minutes, 0.5), percentile(minutes, 0.9));
    }

    static String share(int k, int runs) {
        return String.format("%.1f %%", 100.0 * k / runs);
    }
}
