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

    /** A window of normal scores, sd 0.1, per arm. */
    static Evidence scores(java.util.SplittableRandom random, int w, long n, double shift) {
        double[] sums = new double[4];
        for (int arm = 0; arm < 2; arm++) {
            for (long i = 0; i < n; i++) {
                double u1 = 1 - random.nextDouble();
                double u2 = random.nextDouble();
                double z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
                double score = 0.3 + 0.1 * z + (arm == 1 ? shift : 0);
                sums[2 * arm] += score;
                sums[2 * arm + 1] += score * score;
            }
        }
        return new Evidence(
                w * 1_000L,
                (w + 1) * 1_000L,
                ArmCounts.builder()
                        .attempts(n)
                        .scored(n)
                        .scoreSum(sums[0])
                        .scoreSumSquares(sums[1])
                        .build(),
                ArmCounts.builder()
                        .attempts(n)
                        .scored(n)
                        .scoreSum(sums[2])
                        .scoreSumSquares(sums[3])
                        .build(),
                0.5,
                true);
    }

    static RolloutPolicy scorePolicy() {
        return new RolloutPolicy(
                RolloutPolicy.DEFAULT_SCHEDULE,
                1_000_000,
                200,
                java.util.List.of(Guardrail.parse("score_shift:0.0:critical:tau=0.02")),
                ALPHA,
                0.001,
                2,
                false);
    }

    @Test
    void shouldKeepScoreShiftFalseRollbacksBelowAlphaAndCatchAShiftedCandidate() {
        SplittableRandom random = new SplittableRandom(99);
        int runs = 300;
        int falseRollbacks = 0;
        for (int run = 0; run < runs; run++) {
            Judge judge = new Judge(scorePolicy());
            for (int w = 0; w < 20 && !judge.done(); w++) {
                if (judge.judge(scores(random, w, 500, 0)).action() == Verdict.Action.ROLLBACK) {
                    falseRollbacks++;
                }
            }
        }
        assertThat((double) falseRollbacks / runs)
                .isLessThanOrEqualTo(ALPHA + 3 * Math.sqrt(ALPHA * (1 - ALPHA) / runs));

        int caught = 0;
        for (int run = 0; run < 200; run++) {
            Judge judge = new Judge(scorePolicy());
            for (int w = 0; w < 5 && !judge.done(); w++) {
                // the candidate scores 0.02 lower: a fifth of a standard deviation
                Verdict v = judge.judge(scores(random, w, 500, -0.02));
                if (v.action() == Verdict.Action.ROLLBACK) {
                    caught++;
                    assertThat(v.guardrails().get(0).upper()).isNegative();
                }
            }
        }
        assertThat(caught / 200.0).isGreaterThanOrEqualTo(0.95);
    }

    @Test
    void shouldEstimateTheVarianceOfAMeanScoreAsCommonsMathDoes() {
        double[] x = {0.1, 0.25, 0.3, 0.31, 0.9, 0.05, 0.4};
        double sum = 0;
        double squares = 0;
        for (double v : x) {
            sum += v;
            squares += v * v;
        }
        ArmCounts arm =
                ArmCounts.builder()
                        .attempts(x.length)
                        .scored(x.length)
                        .scoreSum(sum)
                        .scoreSumSquares(squares)
                        .build();
        double expected =
                new org.apache.commons.math3.stat.descriptive.moment.Variance().evaluate(x)
                        / x.length;
        assertThat(Statistic.of(arm, Guardrail.Metric.SCORE_SHIFT).variance())
                .isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-15));
        assertThat(Statistic.of(arm, Guardrail.Metric.SCORE_SHIFT).mean())
                .isCloseTo(sum / x.length, org.assertj.core.data.Offset.offset(1e-15));
    }

    /**
     * A window of n scorings per arm over 10 bins; the candidate's mass moves one bin up by shift.
     */
    static Evidence bins(SplittableRandom random, int w, int n, double shift) {
        long[][] counts = new long[2][10];
        for (int arm = 0; arm < 2; arm++) {
            for (int i = 0; i < n; i++) {
                int bin = random.nextInt(10);
                if (arm == 1 && bin < 9 && random.nextDouble() < shift) {
                    bin++;
                }
                counts[arm][bin]++;
            }
        }
        return new Evidence(
                w * 1_000L,
                (w + 1) * 1_000L,
                ArmCounts.builder().attempts(n).scored(n).scoreBins(counts[0]).build(),
                ArmCounts.builder().attempts(n).scored(n).scoreBins(counts[1]).build(),
                0.5,
                true);
    }

    static RolloutPolicy psiPolicy(double threshold) {
        return new RolloutPolicy(
                RolloutPolicy.DEFAULT_SCHEDULE,
                1_000_000,
                200,
                java.util.List.of(Guardrail.parse("score_psi:" + threshold + ":critical")),
                ALPHA,
                0.001,
                2,
                false);
    }

    @Test
    void shouldKeepScorePsiFalseRollbacksBelowAlphaAndCatchAShiftedDistribution() {
        SplittableRandom random = new SplittableRandom(123);
        int runs = 300;
        int falseRollbacks = 0;
        for (int run = 0; run < runs; run++) {
            // threshold 0: every rejection of the anytime-valid test is a rollback
            Judge judge = new Judge(psiPolicy(0.0));
            for (int w = 0; w < 20 && !judge.done(); w++) {
                if (judge.judge(bins(random, w, 500, 0)).action() == Verdict.Action.ROLLBACK) {
                    falseRollbacks++;
                }
            }
        }
        assertThat((double) falseRollbacks / runs)
                .isLessThanOrEqualTo(ALPHA + 3 * Math.sqrt(ALPHA * (1 - ALPHA) / runs));

        int caught = 0;
        for (int run = 0; run < 200; run++) {
            Judge judge = new Judge(psiPolicy(0.02));
            for (int w = 0; w < 10 && !judge.done(); w++) { // within 10 windows
                // half of the candidate's mass moves up one bin: PSI about 0.055
                Verdict v = judge.judge(bins(random, w, 500, 0.5));
                if (v.action() == Verdict.Action.ROLLBACK) {
                    caught++;
                    assertThat(v.guardrails().get(0).delta()).isGreaterThanOrEqualTo(0.02);
                }
            }
        }
        assertThat(caught / 200.0).isGreaterThanOrEqualTo(0.95);
    }

    @Test
    void shouldGuardOnlyTheHarmfulDirection() {
        SplittableRandom random = new SplittableRandom(5);
        RolloutPolicy lowerIsHarm =
                new RolloutPolicy(
                        RolloutPolicy.DEFAULT_SCHEDULE,
                        0,
                        200,
                        java.util.List.of(Guardrail.parse("score_shift:0.01:critical:decrease")),
                        ALPHA,
                        0.001,
                        2,
                        false);
        Judge falling = new Judge(lowerIsHarm);
        Judge rising = new Judge(lowerIsHarm);
        Verdict.Action fell = null;
        Verdict.Action rose = null;
        for (int w = 0; w < 5; w++) {
            Verdict a = falling.judge(scores(random, w, 500, -0.05));
            Verdict b = rising.judge(scores(random, w, 500, +0.05));
            fell = a == null ? fell : a.action();
            rose = b == null ? rose : b.action();
        }
        assertThat(fell).isEqualTo(Verdict.Action.ROLLBACK);
        assertThat(rose).isIn(Verdict.Action.ADVANCE, Verdict.Action.HOLD, Verdict.Action.PROMOTE);
    }
}
