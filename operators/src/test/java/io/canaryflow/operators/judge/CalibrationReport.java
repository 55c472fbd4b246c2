package io.canaryflow.operators.judge;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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

    record Row(
            Scenario s,
            int runs,
            int rollbacks,
            int promotions,
            int undecided,
            double medianWindows,
            int maxWindows) {}

    static RolloutPolicy policy(String guardrail) {
        return RolloutPolicy.fromFields(
                Map.of(
                        "min-step-duration", "10 min",
                        "min-samples", "500",
                        "guardrails", guardrail,
                        "max-step-duration", "4 h",
                        "max-duration", "24 h"),
                "");
    }

    static Row run(Scenario s, int runs, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int rollbacks = 0;
        int promotions = 0;
        int undecided = 0;
        int maxWindows = 0;
        List<Integer> windowsToDecision = new ArrayList<>();
        RolloutPolicy policy = policy(s.guardrail());
        for (int r = 0; r < runs; r++) {
            UnitTraffic traffic =
                    new UnitTraffic(random, UNITS, SHAPE, 3.0, s.baseRate(), RATE_SHAPE)
                            .withLabels(s.labels());
            Judge judge =
                    s.flips() != null
                            ? Judge.forShadow(policy)
                            : s.abShare() > 0 ? Judge.forAb(policy) : new Judge(policy);
            Verdict last = null;
            int w = 0;
            while (!judge.done()
                    && w < 10_000
                    && !(s.flips() != null
                            && last != null
                            && last.action() == Verdict.Action.ADVANCE)) {
                if (s.flips() != null) {
                    last = judge.judge(traffic.shadowWindow(random, w, s.flips(), true));
                    w++;
                    continue;
                }
                double activity = s.diurnal() ? 1 + 0.8 * Math.sin(2 * Math.PI * w / 240.0) : 1;
                double drift = s.drifting() ? 1 + 0.5 * w / 240.0 : 1;
                last =
                        judge.judge(
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
                                                s.latency()));
                w++;
            }
            maxWindows = Math.max(maxWindows, w);
            windowsToDecision.add(w);
            boolean timedOut =
                    last.reasons().stream().anyMatch(x -> x.contains("without a decision"));
            if (timedOut) {
                undecided++;
            } else if (last.action() == Verdict.Action.ROLLBACK) {
                rollbacks++;
            } else if (last.action() == Verdict.Action.PROMOTE
                    || last.action() == Verdict.Action.ADVANCE) {
                promotions++;
            }
        }
        int[] sorted = windowsToDecision.stream().mapToInt(Integer::intValue).sorted().toArray();
        return new Row(
                s, runs, rollbacks, promotions, undecided, sorted[sorted.length / 2], maxWindows);
    }

    @Test
    void report() {
        Assumptions.assumeTrue(Boolean.getBoolean("calibration"), "-Dcalibration=true runs it");
        int runs = Integer.getInteger("calibration.runs", 200);
        String rel = "inference_error_rate:+50%:critical:margin=+50%";
        String abs2 = "inference_error_rate:0.01:critical";
        String p99 = "latency_p99_ratio:1.5:critical";
        String lab = "label_error_rate:+50%:critical:margin=+50%";
        String labAbs = "label_error_rate:0.02:critical";
        String flip = "flip_rate:0.02:critical";
        List<Scenario> scenarios =
                List.of(
                        new Scenario("A/A, 2 %", "null (harm)", rel, 0.02, 1, 1, false, false),
                        new Scenario("A/A, 0.1 %", "null (harm)", rel, 0.001, 1, 1, false, false),
                        new Scenario("A/A, 0.01 %", "null (harm)", rel, 0.0001, 1, 1, false, false),
                        new Scenario(
                                "A/A, 2 %, diurnal, base rate drifting +50 % over 4 h",
                                "null (harm)", rel, 0.02, 1, 1, true, true),
                        new Scenario(
                                "exactly at +50 %, 2 %",
                                "null (both)", rel, 0.02, 1.5, 1, false, false),
                        new Scenario(
                                "exactly at +50 %, 0.1 %",
                                "null (both)", rel, 0.001, 1.5, 1, false, false),
                        new Scenario(
                                "just better: +25 %, 2 %",
                                "null (harm)", rel, 0.02, 1.25, 1, false, false),
                        new Scenario(
                                "just worse: +100 %, 2 %",
                                "null (pass)", rel, 0.02, 2, 1, false, false),
                        new Scenario(
                                "just worse: +100 %, 0.1 %",
                                "null (pass)", rel, 0.001, 2, 1, false, false),
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
                                "drops 10 % of its scorings, 2 %",
                                "SRM", rel, 0.02, 1, 0.9, false, false),
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
                                "latency just worse: 1.8 x slower",
                                "null (pass)",
                                p99,
                                latency(1.8, 0, 0)),
                        Scenario.latency(
                                "latency: 2 % timeouts at 1 s (p99 = 1 s)",
                                "null (pass)", p99, latency(1, 0.02, 0)),
                        Scenario.labels(
                                "labels A/A (half labelled, 10 % wrong)",
                                "null (harm)", lab, labels(1)),
                        Scenario.labels("labels exactly at +50 %", "null (both)", lab, labels(1.5)),
                        Scenario.labels("labels just worse: +100 %", "null (pass)", lab, labels(2)),
                        Scenario.labels(
                                "labels A/A, absolute +2 points", "null (harm)", labAbs, labels(1)),
                        Scenario.labels(
                                "labels exactly +2 points (12 % vs 10 %)",
                                "null (both)", labAbs, labels(1.2)),
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
                                "null (pass)", flip, flips(1.5)));
        String only = System.getProperty("calibration.only", "");
        scenarios = scenarios.stream().filter(s -> s.name().contains(only)).toList();
        StringBuilder table = new StringBuilder();
        table.append(
                "| scenario | guardrail | which null | runs | rolled back | promoted | undecided at the maximum duration | median windows to the end | longest rollout (windows) |\n");
        table.append("|---|---|---|---:|---:|---:|---:|---:|---:|\n");
        long seed = 20261129;
        for (Scenario s : scenarios) {
            Row r = run(s, runs, seed++);
            table.append(
                    String.format(
                            "| %s | `%s` | %s | %d | %s | %s | %s | %.0f | %d |%n",
                            s.name(),
                            s.guardrail(),
                            s.truth(),
                            r.runs(),
                            share(r.rollbacks(), runs),
                            share(r.promotions(), runs),
                            share(r.undecided(), runs),
                            r.medianWindows(),
                            r.maxWindows()));
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

    static String share(int k, int runs) {
        return String.format("%.1f %%", 100.0 * k / runs);
    }
}
