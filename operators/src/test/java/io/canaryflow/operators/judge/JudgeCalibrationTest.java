package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The judge on simulated rollouts, each judged after every window: how often it rolls back a
 * candidate that is as good as its control (at most α), and how fast it rolls back a worse one.
 */
class JudgeCalibrationTest {
    static final int RUNS = 400;
    static final int WINDOWS = 30;
    static final long PER_ARM = 1_000;
    static final double ALPHA = 0.05;

    @Test
    void shouldRollBackAnAaCandidateInAtMostAlphaOfRolloutsWhereAFixedHorizonTestPeekingFails() {
        SplittableRandom random = new SplittableRandom(20261123);
        int judgeRollbacks = 0;
        int fixedHorizonRollbacks = 0;
        for (int run = 0; run < RUNS; run++) {
            Judge judge = new Judge(JudgeScenarios.policy(0.0, false));
            long nb = 0, xb = 0, nc = 0, xc = 0;
            boolean fixedRejected = false;
            for (int w = 0; w < WINDOWS && !judge.done(); w++) {
                Evidence e = JudgeScenarios.window(random, w, PER_ARM, 0.02, 0.02);
                Verdict v = judge.judge(e);
                if (v.action() == Verdict.Action.ROLLBACK) {
                    judgeRollbacks++;
                }
                // The same data, judged after every window by a one-sided z-test at level α.
                nb += e.control().attempts();
                xb += e.control().errors();
                nc += e.candidate().attempts();
                xc += e.candidate().errors();
                double pb = (double) xb / nb;
                double pc = (double) xc / nc;
                double pooled = (double) (xb + xc) / (nb + nc);
                double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / nb + 1.0 / nc));
                if ((pc - pb) / se > 1.6448536269514722) { // z_(1 - 0.05)
                    fixedRejected = true;
                }
            }
            if (fixedRejected) {
                fixedHorizonRollbacks++;
            }
        }
        double tolerance = 3 * Math.sqrt(ALPHA * (1 - ALPHA) / RUNS);
        assertThat((double) judgeRollbacks / RUNS).isLessThanOrEqualTo(ALPHA + tolerance);
        // Peeking with a fixed-horizon test: far more false rollbacks than its nominal 5 %.
        assertThat((double) fixedHorizonRollbacks / RUNS).isGreaterThan(ALPHA + tolerance);
    }

    @Test
    void shouldRollBackACandidateWithTwoPointsMoreErrorsWithinEightWindowsInNearlyEveryRun() {
        SplittableRandom random = new SplittableRandom(7);
        int runs = 200;
        int caught = 0;
        for (int run = 0; run < runs; run++) {
            Judge judge = new Judge(JudgeScenarios.policy(0.0, false));
            for (int w = 0; w < 8; w++) {
                Verdict v = judge.judge(JudgeScenarios.window(random, w, PER_ARM, 0.02, 0.04));
                if (v.action() == Verdict.Action.ROLLBACK) {
                    caught++;
                    assertThat(v.guardrails())
                            .singleElement()
                            .satisfies(
                                    g -> {
                                        assertThat(g.result()).isEqualTo(Verdict.Result.FAIL);
                                        assertThat(g.lower()).isPositive();
                                        assertThat(g.pValue()).isLessThanOrEqualTo(ALPHA);
                                    });
                    break;
                }
            }
        }
        assertThat((double) caught / runs).isGreaterThanOrEqualTo(0.95);
    }
}
