package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Relative thresholds ({@code inference_error_rate:+50%}), judged by the exact rate-ratio
 * e-process: at rare events and tiny arms, false promotions of a candidate at the margin and false
 * rollbacks of one at the threshold stay at most α.
 */
class RelativeThresholdTest {
    static final double ALPHA = 0.05;

    static RolloutPolicy policy(String guardrail) {
        return RolloutPolicy.fromFields(
                Map.of(
                        "min-step-duration", "1 s",
                        "min-samples", "100",
                        "guardrails", guardrail,
                        "max-step-duration", "1000 h",
                        "max-duration", "1000 h"),
                "");
    }

    /** A window of independent scorings per arm at the given error rates. */
    static Evidence window(
            SplittableRandom random, int w, long control, long candidate, double pc, double pk) {
        long xc = UnitTraffic.binomial(random, control, pc);
        long xk = UnitTraffic.binomial(random, candidate, pk);
        return new Evidence(
                w * 60_000L,
                (w + 1) * 60_000L,
                ArmCounts.builder().attempts(control).errors(xc).build(),
                ArmCounts.builder().attempts(candidate).errors(xk).build(),
                0.5,
                true);
    }

    record Outcome(int promoted, int rolledBack, int runs) {}

    /** Rollouts of a fixed split, judged after each of {@code windows} windows. */
    static Outcome run(
            long seed,
            int runs,
            int windows,
            String guardrail,
            long perArm,
            double baseRate,
            double ratio) {
        SplittableRandom random = new SplittableRandom(seed);
        int promoted = 0;
        int rolledBack = 0;
        for (int r = 0; r < runs; r++) {
            Judge judge = Judge.forAb(policy(guardrail));
            for (int w = 0; w < windows && !judge.done(); w++) {
                Verdict v =
                        judge.judge(window(random, w, perArm, perArm, baseRate, baseRate * ratio));
                if (v.action() == Verdict.Action.PROMOTE) {
                    promoted++;
                } else if (v.action() == Verdict.Action.ROLLBACK) {
                    rolledBack++;
                }
            }
        }
        return new Outcome(promoted, rolledBack, runs);
    }

    static double tolerance(int runs) {
        return 3 * Math.sqrt(ALPHA * (1 - ALPHA) / runs);
    }

    @Test
    void shouldReadAPercentageAsARelativeThresholdAndItsMargin() {
        Guardrail g = Guardrail.parse("inference_error_rate:+50%:critical:margin=+60%");
        assertThat(g.relative()).isTrue();
        assertThat(g.threshold()).isEqualTo(0.5);
        assertThat(g.margin()).isEqualTo(0.6);
        assertThat(g.critical()).isTrue();
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> Guardrail.parse("inference_error_rate:+50%:margin=0.6"))
                .hasMessageContaining("relative (in %) exactly when its threshold is");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> Guardrail.parse("score_shift:+10%"))
                .hasMessageContaining(
                        "relative thresholds are for inference_error_rate and label_error_rate only");
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> Guardrail.parse("inference_error_rate:+10%:decrease"))
                .hasMessageContaining("guards an increase only");
    }

    @Test
    void shouldRollBackASixfoldErrorRateThatAnAbsoluteThresholdOfOnePointLetsThrough() {
        // 0.1 % -> 0.6 %: within +1 point, but 6 times the control's rate
        Outcome relative = run(1, 100, 40, "inference_error_rate:+50%:critical", 20_000, 0.001, 6);
        Outcome absolute = run(1, 100, 40, "inference_error_rate:0.01:critical", 20_000, 0.001, 6);
        assertThat(relative.rolledBack()).isEqualTo(100);
        assertThat(absolute.rolledBack()).isZero();
    }

    @Test
    void shouldPromoteACandidateExactlyAtTheMarginInAtMostAlphaOfRolloutsEvenAtRareEvents() {
        // margin = threshold = +50 %: a candidate at 1.5 x must not pass; base rates 2 %, 0.1 %,
        // 0.01 %, and the smallest at a 1 % step's arm size (a few hundred scorings a window)
        int runs = 300;
        for (double[] c :
                new double[][] {{0.02, 2_000}, {0.001, 20_000}, {0.0001, 50_000}, {0.0001, 500}}) {
            Outcome o = run(7, runs, 60, "inference_error_rate:+50%", (long) c[1], c[0], 1.5);
            assertThat((double) o.promoted() / runs)
                    .as("false promotions at base rate %s, %s per arm", c[0], (long) c[1])
                    .isLessThanOrEqualTo(ALPHA + tolerance(runs));
        }
    }

    @Test
    void shouldRollBackAnAaCandidateInAtMostAlphaOfRolloutsAndPassAGoodOne() {
        int runs = 300;
        // threshold +0 %: any significant increase fails; margin +30 % lets an equal one pass
        Outcome aa = run(9, runs, 60, "inference_error_rate:+0%:margin=+30%", 20_000, 0.001, 1);
        assertThat((double) aa.rolledBack() / runs).isLessThanOrEqualTo(ALPHA + tolerance(runs));
        assertThat((double) aa.promoted() / runs).isGreaterThan(0.8);
    }

    @Test
    void shouldStateTheExactTestInTheDecisionsEvidence() {
        Judge judge = Judge.forAb(policy("inference_error_rate:+50%:critical"));
        Verdict v = judge.judge(window(new SplittableRandom(3), 0, 5_000, 5_000, 0.01, 0.01));
        assertThat(v.guardrails())
                .singleElement()
                .satisfies(
                        g -> {
                            assertThat(g.test()).startsWith("mSPRT on the log rate ratio");
                            assertThat(g.lower()).isLessThan(g.delta());
                            assertThat(g.upper()).isGreaterThan(g.delta());
                        });
        assertThat(List.of(v.action())).containsAnyOf(Verdict.Action.HOLD, Verdict.Action.PROMOTE);
    }

    @Test
    void shouldNotPromoteACandidateAtAnAbsoluteThresholdAtRareEvents() {
        // absolute +0.5 point, the candidate exactly at it, over rare base rates and a 1 % step's
        // small arms (500 scorings a window): with the plug-in variance alone (which shrinks when
        // the candidate's few errors are low by chance) 0.02 % and 500 gave 8 % false promotions
        int runs = 300;
        for (double[] c : new double[][] {{0, 500}, {0.0002, 500}, {0.0002, 2_000}, {0.001, 500}}) {
            Outcome o = absolute(13, runs, 60, "inference_error_rate:0.005", (long) c[1], c[0]);
            assertThat((double) o.promoted() / runs)
                    .as("false promotions at base rate %s, %s per arm", c[0], (long) c[1])
                    .isLessThanOrEqualTo(ALPHA);
        }
    }

    static Outcome absolute(
            long seed, int runs, int windows, String guardrail, long perArm, double pc) {
        SplittableRandom random = new SplittableRandom(seed);
        int promoted = 0;
        int rolledBack = 0;
        for (int r = 0; r < runs; r++) {
            Judge judge = Judge.forAb(policy(guardrail));
            for (int w = 0; w < windows && !judge.done(); w++) {
                Verdict v = judge.judge(window(random, w, perArm, perArm, pc, pc + 0.005));
                if (v.action() == Verdict.Action.PROMOTE) {
                    promoted++;
                } else if (v.action() == Verdict.Action.ROLLBACK) {
                    rolledBack++;
                }
            }
        }
        return new Outcome(promoted, rolledBack, runs);
    }
}
