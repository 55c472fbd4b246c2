package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The judge's power against the fixed-horizon reference ({@link Reference}: a cluster-robust z-test
 * looked at once, at the same end point, on the same data), on rollouts through the whole default
 * policy of a population smaller than the calibration's, so that it runs in every build (the full
 * tables: {@link CalibrationReport}, docs/calibration.md). A judge whose evidence stalls (the whole
 * history divided by a design effect that grows with it) or that holds at a dominant unit reaches a
 * fraction of the reference; this one must reach 80 % of it.
 */
class JudgePowerTest {
    private static final int RUNS = 40;
    private static final int UNITS = 6_000;

    private static CalibrationReport.Row run(CalibrationReport.Scenario s, long seed) {
        // activity Pareto 1.5, rates gamma of shape 1: heavy-tailed users with rates of their own
        return CalibrationReport.run(s, RUNS, seed, UNITS, 1.5, 1.0);
    }

    @Test
    void shouldRollBackTwiceTheErrorsByEvidenceNearlyAsOftenAsTheReferenceShowsHarm() {
        CalibrationReport.Row r =
                run(
                        new CalibrationReport.Scenario(
                                "2 x the errors at a 1 % base",
                                "null (pass)",
                                "inference_error_rate:+50%:critical",
                                0.01,
                                2,
                                1,
                                false,
                                false),
                        101);
        assertThat(r.referenceHarm()).isGreaterThan(RUNS / 2);
        assertThat(r.rollbacks()).isGreaterThanOrEqualTo((int) Math.ceil(0.8 * r.referenceHarm()));
        assertThat(r.promotions()).isZero();
    }

    @Test
    void shouldPromoteAnAaCandidateNearlyAsOftenAsTheReferenceShowsItWithinTheMargin() {
        CalibrationReport.Row r =
                run(
                        new CalibrationReport.Scenario(
                                "A/A, 2 %",
                                "null (harm)",
                                "inference_error_rate:+50%:critical",
                                0.02,
                                1,
                                1,
                                false,
                                false),
                        102);
        assertThat(r.referencePass()).isGreaterThan(RUNS / 2);
        assertThat(r.promotions()).isGreaterThanOrEqualTo((int) Math.ceil(0.8 * r.referencePass()));
        assertThat(r.rollbacks()).isLessThanOrEqualTo(2);
    }

    @Test
    void shouldRollBackASlowTailNearlyAsOftenAsTheReferenceShowsHarm() {
        CalibrationReport.Row r =
                run(
                        CalibrationReport.Scenario.latency(
                                "p99 2.2 x the control's (0.7 % timeouts at 1 s)",
                                "null (pass)",
                                "latency_p99_ratio:1.5:critical",
                                CalibrationReport.latency(1.78, 0.007, 0.5)),
                        103);
        assertThat(r.referenceHarm()).isGreaterThan(RUNS / 2);
        assertThat(r.rollbacks()).isGreaterThanOrEqualTo((int) Math.ceil(0.8 * r.referenceHarm()));
        assertThat(r.promotions()).isZero();
    }
}
