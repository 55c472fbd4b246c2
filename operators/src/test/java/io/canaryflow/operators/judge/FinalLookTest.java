package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The final look's critical values ({@link FinalLook}) against a second simulation of their own
 * purpose: rollouts whose looks are the judge's (one a minute, information growing linearly within
 * each step of a ramp, not the table's log grid), the mixture at α·(1 − FINAL_SHARE) at every look,
 * the z-test at the table's critical value at the last planned one, and the mixture looking on
 * afterwards (an inconclusive rollout's harm is still judged; a person may RESUME). What these
 * discrete looks cannot see of the mixture's crossings (between them, and beyond the last) is
 * bounded by Ville's inequality: the level less the crossings seen. So the procedure's error is at
 * most the share of rollouts that crossed or rejected at the final look plus that remainder; at the
 * boundary it must be at most α, above the same procedure's with Bonferroni's split (the unspent α
 * is spent), and above α with a critical value 0.15 lower (the check can fail).
 */
class FinalLookTest {
    private static final double ALPHA = 0.05;
    private static final int RUNS = 40_000;

    @Test
    void shouldSpendWhatTheMixtureLeavesButNoMoreThanAlphaOverTheJudgesLooks() {
        for (double uEnd : new double[] {0.5, 5, 50, 500}) {
            double[] errors = rejections(uEnd, 1, 7, 0);
            // two Monte-Carlo standard errors over 40,000 rollouts: 0.22 points
            assertThat(errors[0]).as("size at u = %s", uEnd).isLessThanOrEqualTo(ALPHA + 0.0022);
            System.out.printf(
                    "final look at u = %s: size %.4f, with Bonferroni's split %.4f%n",
                    uEnd, errors[0], errors[1]);
            // never below Bonferroni; above it once the mixture has had information to spend
            assertThat(errors[0])
                    .as("against Bonferroni at u = %s", uEnd)
                    .isGreaterThanOrEqualTo(errors[1]);
            if (uEnd == 5 || uEnd == 50) { // where the heavy population's final looks are
                assertThat(rejections(uEnd, 1, 7, 0.15)[0])
                        .as("a critical value 0.15 lower at u = %s", uEnd)
                        .isGreaterThan(ALPHA + 0.0022);
                assertThat(errors[0])
                        .as("against Bonferroni at u = %s", uEnd)
                        .isGreaterThan(errors[1] + 0.002);
            }
        }
    }

    @Test
    void shouldRejectAtEveryLevelOfTheLadderAtMostItsShare() {
        for (int j : new int[] {2, 4, 16}) {
            double level = ALPHA / j;
            assertThat(rejections(50, j, 11, 0)[0])
                    .as("α/%d", j)
                    .isLessThanOrEqualTo(level + 2 * Math.sqrt(level * (1 - level) / RUNS));
        }
    }

    @Test
    void shouldLowerTheFinalCriticalValueBelowBonferroni() {
        // Bonferroni: Φ⁻¹(1 − 0.025) = 1.96
        assertThat(FinalLook.critical(10, ALPHA, 1)).isBetween(1.7, 1.9);
        assertThat(FinalLook.critical(1e4, ALPHA, 1)).isLessThanOrEqualTo(1.96);
        // beyond the table, Bonferroni's
        assertThat(FinalLook.critical(1e9, ALPHA, 1))
                .isCloseTo(1.959964, org.assertj.core.data.Offset.offset(1e-6));
    }

    @Test
    void shouldGiveAPValueOnTheLadderAndNeverAboveBonferroni() {
        double c = FinalLook.critical(20, ALPHA, 1);
        assertThat(FinalLook.pValue(1, c + 0.01, 20, ALPHA)).isLessThanOrEqualTo(ALPHA);
        assertThat(FinalLook.pValue(1, c - 0.01, 20, ALPHA)).isGreaterThan(ALPHA);
        // the mixture alone already at its level
        assertThat(FinalLook.pValue(ALPHA * (1 - Judge.FINAL_SHARE), -3, 20, ALPHA))
                .isLessThanOrEqualTo(ALPHA);
        double bonferroni = DeltaMethodSprt.fixedP(4) / Judge.FINAL_SHARE;
        assertThat(FinalLook.pValue(1, 4, 20, ALPHA)).isLessThanOrEqualTo(bonferroni);
    }

    /**
     * The procedure's error at the boundary at level α/j, bounded as above: with the final look's
     * critical value less {@code lower}, and with Bonferroni's. A ramp of four steps of 5 looks
     * each and a last step of 360, information at its last look {@code uEnd} (τ² = 1), each step's
     * information growing linearly with its looks, weighted as the ramp's shares; then 300 more
     * looks to a thousand times that information.
     */
    private static double[] rejections(double uEnd, int j, long seed, double lower) {
        double[] shares = {0.01, 0.05, 0.10, 0.25, 0.50};
        int[] looks = {5, 5, 5, 5, 360};
        double total = 0;
        for (int k = 0; k < shares.length; k++) {
            total += shares[k] * looks[k];
        }
        double level = ALPHA / j;
        double bonferroniC = FinalLook.bonferroniCritical(level);
        SplittableRandom random = new SplittableRandom(seed);
        int recycled = 0;
        int bonferroni = 0;
        int crossings = 0;
        for (int r = 0; r < RUNS; r++) {
            double s = 0;
            double u = 0;
            boolean crossed = false;
            boolean finalRecycled = false;
            boolean finalBonferroni = false;
            for (int k = 0; k < shares.length; k++) {
                for (int w = 0; w < looks[k]; w++) {
                    double du = uEnd * shares[k] / total;
                    s += gaussian(random) * Math.sqrt(du);
                    u += du;
                    crossed |= crosses(s, u, level);
                }
            }
            double z = s / Math.sqrt(u);
            finalRecycled = z > FinalLook.critical(u, ALPHA, j) - lower;
            finalBonferroni = z > bonferroniC;
            double grow = Math.pow(1000, 1.0 / 300);
            for (int w = 0; w < 300 && !crossed; w++) {
                double du = u * (grow - 1);
                s += gaussian(random) * Math.sqrt(du);
                u += du;
                crossed = crosses(s, u, level);
            }
            crossings += crossed ? 1 : 0;
            recycled += crossed || finalRecycled ? 1 : 0;
            bonferroni += crossed || finalBonferroni ? 1 : 0;
        }
        // Ville: what the looks did not see of the mixture's crossings is at most its level less
        // the crossings seen
        double unseen = Math.max(0, level * (1 - Judge.FINAL_SHARE) - (double) crossings / RUNS);
        return new double[] {
            (double) recycled / RUNS + unseen, (double) bonferroni / RUNS + unseen
        };
    }

    private static boolean crosses(double s, double u, double level) {
        return MixtureSprt.oneSidedPValue(s / u, 0, 1 / u, 1) <= level * (1 - Judge.FINAL_SHARE);
    }

    private static double gaussian(SplittableRandom random) {
        // Box–Muller: a different generator from the table's
        double u1 = random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
