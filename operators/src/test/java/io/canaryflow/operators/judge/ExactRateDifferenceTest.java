package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link RateDifferenceTest}: its parts against closed forms and a grid search, and its error bound
 * by simulation where a normal approximation is weakest (rare events, small arms).
 */
class ExactRateDifferenceTest {

    @Test
    void shouldMixTheLikelihoodOverJeffreysPriorAsTheClosedFormsSay() {
        // ∫ p^x (1 − p)^(n − x) Beta(½, ½)(dp): 1/2 for one scoring, 1/8 for one error in two,
        // 3/8 for none in two (B(½, 5/2) / π = (Γ(½) Γ(5/2) / Γ(3)) / π = (3π/4 / 2) / π)
        assertThat(RateDifferenceTest.logMixture(0, 1)).isCloseTo(Math.log(0.5), within(1e-12));
        assertThat(RateDifferenceTest.logMixture(1, 2)).isCloseTo(Math.log(0.125), within(1e-12));
        assertThat(RateDifferenceTest.logMixture(0, 2)).isCloseTo(Math.log(0.375), within(1e-12));
    }

    @Test
    void shouldFindTheNullsMaximumLikelihoodOnItsBoundaryAsAGridSearchDoes() {
        long[][] cases = {
            {3, 2_000, 0, 2_000}, {40, 2_000, 70, 2_000}, {0, 500, 0, 500}, {5, 100, 1, 1_000}
        };
        for (long[] c : cases) {
            for (double d : new double[] {0.0001, 0.005, 0.02, -0.01}) {
                double best = Double.NEGATIVE_INFINITY;
                for (int i = 0; i <= 2_000_000; i++) {
                    double p = i / 2_000_000.0;
                    double q = p + d;
                    if (q < 0 || q > 1) {
                        continue;
                    }
                    best =
                            Math.max(
                                    best,
                                    RateDifferenceTest.logLikelihood(c[0], c[1], p)
                                            + RateDifferenceTest.logLikelihood(c[2], c[3], q));
                }
                assertThat(RateDifferenceTest.onBoundary(c[0], c[1], c[2], c[3], d))
                        .as("case %s, d %s", java.util.Arrays.toString(c), d)
                        .isCloseTo(best, within(1e-3))
                        .isGreaterThanOrEqualTo(best - 1e-9);
            }
        }
    }

    /**
     * Rollouts of {@code windows} windows of {@code n} scorings per arm: how many ever pass (p ≤ α)
     * a candidate whose rate is exactly the control's plus the margin.
     */
    static int falsePasses(long seed, int runs, int windows, int n, double pc, double margin) {
        SplittableRandom random = new SplittableRandom(seed);
        int passes = 0;
        for (int r = 0; r < runs; r++) {
            long xc = 0;
            long xk = 0;
            for (int w = 1; w <= windows; w++) {
                xc += UnitTraffic.binomial(random, n, pc);
                xk += UnitTraffic.binomial(random, n, pc + margin);
                if (RateDifferenceTest.passP(xc, (long) w * n, xk, (long) w * n, margin, 1)
                        <= 0.05) {
                    passes++;
                    break;
                }
            }
        }
        return passes;
    }

    @Test
    void shouldPassACandidateExactlyAtTheMarginInAtMostAlphaOfRolloutsAtRareRates() {
        int runs = 2_000;
        // 0.01 % against 0.02 % in windows of 500 scorings a side (a 1 % step's arm), 0.1 %
        // against 0.2 %, and 2 % against 3 %: every look counted
        int rare = falsePasses(61, runs, 120, 500, 0.0001, 0.0001);
        int low = falsePasses(62, runs, 60, 2_000, 0.001, 0.001);
        int common = falsePasses(63, runs, 60, 2_000, 0.02, 0.01);
        System.out.printf(
                "exact pass test at the margin: %d, %d, %d of %d rollouts passed%n",
                rare, low, common, runs);
        double bound = 0.05 + 3 * Math.sqrt(0.05 * 0.95 / runs);
        assertThat((double) rare / runs).isLessThanOrEqualTo(bound);
        assertThat((double) low / runs).isLessThanOrEqualTo(bound);
        assertThat((double) common / runs).isLessThanOrEqualTo(bound);
    }

    @Test
    void shouldPassACandidateAsGoodAsItsControlOnceThereIsEnoughEvidence() {
        // 2 % in both arms, margin 1 point: passes; with no errors at all and a margin of 0.1
        // point, 20,000 scorings a side are enough, 10,000 not (the mixture's price: about ½ ln n
        // of evidence per rate)
        assertThat(RateDifferenceTest.passP(400, 20_000, 400, 20_000, 0.01, 1)).isLessThan(1e-3);
        assertThat(RateDifferenceTest.passP(0, 20_000, 0, 20_000, 0.001, 1)).isLessThan(0.05);
        assertThat(RateDifferenceTest.passP(0, 10_000, 0, 10_000, 0.001, 1)).isEqualTo(1);
        // far from it, or with too few scorings: no pass
        assertThat(RateDifferenceTest.passP(40, 2_000, 70, 2_000, 0.01, 1)).isEqualTo(1);
        assertThat(RateDifferenceTest.passP(0, 100, 0, 100, 0.001, 1)).isGreaterThan(0.05);
        // divided by a design effect: weaker evidence
        assertThat(RateDifferenceTest.passP(400, 20_000, 400, 20_000, 0.01, 4))
                .isGreaterThan(RateDifferenceTest.passP(400, 20_000, 400, 20_000, 0.01, 1));
    }

    @Test
    void shouldTestAOneSidedRateAgainstZeroWhenTheControlHasNone() {
        // a shadow's flip rate: the control's is 0 by definition
        assertThat(RateDifferenceTest.passPAlone(50, 10_000, 0.01, 1)).isLessThan(1e-4);
        assertThat(RateDifferenceTest.passPAlone(150, 10_000, 0.01, 1)).isEqualTo(1);
        SplittableRandom random = new SplittableRandom(64);
        int passes = 0;
        for (int r = 0; r < 2_000; r++) {
            long x = 0;
            for (int w = 1; w <= 60; w++) {
                x += UnitTraffic.binomial(random, 1_000, 0.02);
                if (RateDifferenceTest.passPAlone(x, w * 1_000L, 0.02, 1) <= 0.05) {
                    passes++;
                    break;
                }
            }
        }
        assertThat(passes / 2_000.0).isLessThanOrEqualTo(0.05 + 3 * Math.sqrt(0.05 * 0.95 / 2_000));
    }
}
