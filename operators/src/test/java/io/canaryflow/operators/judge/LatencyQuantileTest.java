package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code latency_p99_ratio:R}: the candidate's p99 at most R times the control's, judged by the
 * exact sequential quantile test on its share of scorings above the cut. A candidate whose p99 is
 * exactly at the bound (1 % above the cut) must not pass in more than α of rollouts; one beyond it
 * is rolled back; one like its control passes.
 */
class LatencyQuantileTest {
    static final double ALPHA = 0.05;
    static final int RUNS = 300;

    static RolloutPolicy policy() {
        return RolloutPolicy.fromFields(
                Map.of(
                        "min-step-duration", "1 s",
                        "min-samples", "500",
                        "guardrails", "latency_p99_ratio:1.5:critical",
                        "max-step-duration", "1000 h",
                        "max-duration", "1000 h"),
                "");
    }

    record Outcome(int promoted, int rolledBack) {}

    /** Rollouts whose candidate has {@code share} of its scorings above the cut. */
    static Outcome run(long seed, double share, int windows) {
        SplittableRandom random = new SplittableRandom(seed);
        int promoted = 0;
        int rolledBack = 0;
        for (int r = 0; r < RUNS; r++) {
            Judge judge = Judge.forAb(policy());
            for (int w = 0; w < windows && !judge.done(); w++) {
                long n = 2_000;
                long above = UnitTraffic.binomial(random, n, share);
                long controlAbove = UnitTraffic.binomial(random, n, 0.001);
                ArmCounts control =
                        ArmCounts.builder()
                                .attempts(n)
                                .scored(n)
                                .slow(controlAbove)
                                .slowLow(controlAbove)
                                .build();
                ArmCounts candidate =
                        ArmCounts.builder()
                                .attempts(n)
                                .scored(n)
                                .slow(above)
                                .slowLow(above)
                                .build();
                Verdict v =
                        judge.judge(
                                new Evidence(
                                        w * 60_000L,
                                        (w + 1) * 60_000L,
                                        control,
                                        candidate,
                                        0.5,
                                        true));
                if (v.action() == Verdict.Action.PROMOTE) {
                    promoted++;
                } else if (v.action() == Verdict.Action.ROLLBACK) {
                    rolledBack++;
                }
            }
        }
        return new Outcome(promoted, rolledBack);
    }

    @Test
    void shouldCountNoWindowWhoseControlScoredNothingAsEvidenceThatTheCandidateIsFast() {
        // the control's attempts all failed: no p99, no cut; the candidate's 2,000 scorings per
        // window are neither slow nor fast (they once counted as all fast, evidence for a PASS)
        Judge judge = Judge.forAb(policy());
        Verdict v = null;
        for (int w = 0; w < 40 && !judge.done(); w++) {
            // the first window is cut, with the candidate at the bound; then the control fails
            long scored = w == 0 ? 2_000 : 0;
            long slow = w == 0 ? 20 : 0;
            ArmCounts control =
                    ArmCounts.builder()
                            .attempts(2_000)
                            .errors(2_000 - scored)
                            .scored(scored)
                            .build();
            ArmCounts candidate =
                    ArmCounts.builder()
                            .attempts(2_000)
                            .scored(2_000)
                            .slow(slow)
                            .slowLow(slow)
                            .build();
            v =
                    judge.judge(
                            new Evidence(
                                    w * 60_000L, (w + 1) * 60_000L, control, candidate, 0.5, true));
        }
        assertThat(v.action()).isNotEqualTo(Verdict.Action.PROMOTE);
        assertThat(v.guardrails())
                .singleElement()
                .satisfies(g -> assertThat(g.result()).isNotEqualTo(Verdict.Result.PASS));
    }

    @Test
    void shouldCountOnlyTheScoringsOfMonitoringWindowsThatHadACut() {
        // a judging window gathers two monitoring windows; in the second the control scored
        // nothing, so there is no cut and its candidate scorings count for neither side
        ArmCounts control = ArmCounts.builder().attempts(1_000).scored(1_000).build();
        ArmCounts uncut =
                ArmCounts.builder().attempts(1_000).scored(1_000).slowLow(0).cutScored(0).build();
        WindowArms first =
                new WindowArms(
                                0,
                                ArmCounts.NONE.plus(control),
                                ArmCounts.NONE.plus(uncut),
                                0,
                                io.canaryflow.operators.monitoring.TestReports.latency(
                                        1_000, 1_000),
                                io.canaryflow.operators.monitoring.TestReports.latency(
                                        1_000, 2_000))
                        .cutAt(1.5);
        WindowArms second =
                new WindowArms(
                                60_000,
                                ArmCounts.builder().attempts(1_000).errors(1_000).build(),
                                ArmCounts.NONE.plus(uncut),
                                0,
                                io.canaryflow.operators.monitoring.TestReports.latency(0, 1_000),
                                io.canaryflow.operators.monitoring.TestReports.latency(1_000, 900))
                        .cutAt(1.5);
        ArmCounts gathered = first.then(second).candidate();
        assertThat(gathered.scored()).isEqualTo(2_000);
        assertThat(gathered.cutScored()).isEqualTo(1_000);
        assertThat(gathered.slow()).isEqualTo(1_000); // 2 ms against 1.5 x 1 ms
        assertThat(gathered.n(Guardrail.Metric.LATENCY_P99_RATIO)).isEqualTo(1_000);
    }

    static double tolerance() {
        return 3 * Math.sqrt(ALPHA * (1 - ALPHA) / RUNS);
    }

    @Test
    void shouldReadTheRatioAsTheBoundOnTheP99() {
        Guardrail g = Guardrail.parse("latency_p99_ratio:2.5:critical");
        assertThat(g.ratio()).isEqualTo(2.5);
        assertThat(g.threshold()).isZero();
    }

    @Test
    void shouldPassACandidateWhoseP99IsExactlyAtTheBoundInAtMostAlphaOfRollouts() {
        Outcome atBound = run(1, 0.01, 60);
        assertThat((double) atBound.promoted() / RUNS).isLessThanOrEqualTo(ALPHA + tolerance());
        assertThat((double) atBound.rolledBack() / RUNS).isLessThanOrEqualTo(ALPHA + tolerance());
    }

    @Test
    void shouldRollBackACandidateWhoseP99IsBeyondTheBoundAndPassOneLikeItsControl() {
        Outcome beyond = run(2, 0.02, 60); // twice the tail above the cut
        assertThat((double) beyond.rolledBack() / RUNS).isGreaterThanOrEqualTo(0.95);
        Outcome alike = run(3, 0.001, 60);
        assertThat((double) alike.promoted() / RUNS).isGreaterThanOrEqualTo(0.95);
        assertThat((double) alike.rolledBack() / RUNS).isLessThanOrEqualTo(ALPHA + tolerance());
    }

    @Test
    void shouldNameTheQuantileTestInTheEvidence() {
        Judge judge = Judge.forAb(policy());
        ArmCounts arm =
                ArmCounts.builder().attempts(2_000).scored(2_000).slow(2).slowLow(2).build();
        Verdict v = judge.judge(new Evidence(0, 60_000, arm, arm, 0.5, true));
        assertThat(v.guardrails().get(0).test())
                .startsWith("quantile test of the candidate's share");
    }
}
