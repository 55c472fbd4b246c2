package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.junit.jupiter.api.Test;

/** The judge's statistics against independent computations. */
class JudgeStatisticsTest {
    static double normalDensity(double x, double mean, double variance) {
        return Math.exp(-(x - mean) * (x - mean) / (2 * variance))
                / Math.sqrt(2 * Math.PI * variance);
    }

    /** Λ by numerical integration of the mixture (Simpson's rule), not by the closed form. */
    static double integratedRatio(double d, double theta0, double v, double tau2) {
        double tau = Math.sqrt(tau2);
        double lo = theta0 - 12 * tau;
        double hi = theta0 + 12 * tau;
        int steps = 20_000;
        double h = (hi - lo) / steps;
        double sum = 0;
        for (int i = 0; i <= steps; i++) {
            double theta = lo + i * h;
            double f = normalDensity(d, theta, v) * normalDensity(theta, theta0, tau2);
            sum += f * (i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2);
        }
        return sum * h / 3 / normalDensity(d, theta0, v);
    }

    @Test
    void shouldComputeTheMixtureLikelihoodRatioAsTheIntegralOfTheMixture() {
        double[][] cases = {
            {0.0, 0.0, 1e-4, 1e-4},
            {0.02, 0.0, 2e-5, 1e-4},
            {0.01, 0.005, 5e-5, 4e-4},
            {-0.03, 0.0, 1e-4, 1e-4}
        };
        for (double[] c : cases) {
            double closed = MixtureSprt.likelihoodRatio(c[0], c[1], c[2], c[3]);
            assertThat(closed)
                    .isCloseTo(integratedRatio(c[0], c[1], c[2], c[3]), within(closed * 1e-6));
        }
    }

    @Test
    void shouldPutTheConfidenceSequencesEndsWhereTheIntegratedRatioReachesOneOverAlpha() {
        double d = 0.015;
        double v = 3e-5;
        double tau2 = 1e-4;
        double alpha = 0.05;
        // bisection on the integrated ratio for the theta0 below d where it equals 1/alpha
        double lo = d - 0.05; // within the integration range of the mixture
        double hi = d;
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            if (integratedRatio(d, mid, v, tau2) > 1 / alpha) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        assertThat(d - MixtureSprt.radius(v, tau2, alpha)).isCloseTo(lo, within(1e-7));
    }

    @Test
    void shouldRejectWithHolmStepDownAsComputedByHand() {
        // sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2: stop
        assertThat(Holm.rejected(new double[] {0.01, 0.04, 0.03, 0.005}, 0.05))
                .containsExactly(true, false, false, true);
        assertThat(Holm.rejected(new double[] {0.2, 0.001}, 0.05)).containsExactly(false, true);
    }

    @Test
    void shouldFlagASampleRatioMismatchWithPearsonsChiSquare() {
        Judge judge = new Judge(JudgeScenarios.policy(0.0, false));
        Verdict v =
                judge.judge(
                        new Evidence(
                                0,
                                1_000,
                                ArmCounts.builder().attempts(1_000).errors(10).build(),
                                ArmCounts.builder().attempts(1_200).errors(12).build(),
                                0.5,
                                true));
        // expected 1100 each: (100^2 / 1100) * 2
        assertThat(v.srm().statistic()).isCloseTo(2 * 100.0 * 100 / 1100, within(1e-9));
        assertThat(v.srm().pValue())
                .isCloseTo(
                        1 - new ChiSquaredDistribution(1).cumulativeProbability(20_000.0 / 1100),
                        within(1e-12));
        assertThat(v.action()).isEqualTo(Verdict.Action.UNHEALTHY);
        assertThat(v.guardrails()).isEmpty();
        assertThat(v.reasons()).anySatisfy(r -> assertThat(r).contains("sample ratio mismatch"));
        // a balanced window next is judged, and the mismatched one was not counted
        Verdict next =
                judge.judge(
                        new Evidence(
                                1_000,
                                2_000,
                                ArmCounts.builder().attempts(1_000).errors(10).build(),
                                ArmCounts.builder().attempts(1_010).errors(10).build(),
                                0.5,
                                true));
        assertThat(next.action()).isNotEqualTo(Verdict.Action.UNHEALTHY);
        assertThat(next.guardrails())
                .singleElement()
                .satisfies(g -> assertThat(g.candidateN()).isEqualTo(1_010));
        assertThat(List.of(next.srm().control(), next.srm().candidate()))
                .containsExactly(1_000L, 1_010L);
    }

    @Test
    void shouldComputeTheBinnedMixtureRatioFromFactorials() {
        // one bin, 3 candidate and 1 control at share 1/2: B(4, 2) / 0.5^4 = (3! 1! / 5!) * 16
        double single = 6.0 / 120 * 16;
        assertThat(Math.exp(BinnedMixture.logLikelihoodRatio(new long[] {3}, new long[] {1}, 0.5)))
                .isCloseTo(single, within(1e-12));
        // bins multiply; a second bin with 0 and 2 at share 1/4: B(1, 3) / (0.75^2) = (1/3) /
        // 0.5625
        double second = (1.0 / 3) / 0.5625;
        assertThat(
                        Math.exp(
                                BinnedMixture.logLikelihoodRatio(
                                        new long[] {3, 0}, new long[] {1, 2}, 0.25)))
                .isCloseTo(
                        (6.0 / 120) / (Math.pow(0.25, 3) * Math.pow(0.75, 1)) * second,
                        within(1e-9));
    }

    /** Λ₊ by numerical integration over the half-normal mixture (Simpson's rule). */
    static double integratedOneSided(double d, double theta0, double v, double tau2) {
        double tau = Math.sqrt(tau2);
        double hi = theta0 + 12 * tau;
        int steps = 20_000;
        double h = (hi - theta0) / steps;
        double sum = 0;
        for (int i = 0; i <= steps; i++) {
            double theta = theta0 + i * h;
            double f = normalDensity(d, theta, v) * 2 * normalDensity(theta, theta0, tau2);
            sum += f * (i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2);
        }
        return sum * h / 3 / normalDensity(d, theta0, v);
    }

    @Test
    void shouldComputeTheOneSidedMixtureAsTheIntegralOverTheHalfNormal() {
        double[][] cases = {
            {0.0, 0.0, 1e-4, 1e-4},
            {0.02, 0.0, 2e-5, 1e-4},
            {0.01, 0.005, 5e-5, 4e-4},
            {-0.03, 0.0, 1e-4, 1e-4},
            {0.3, 0.405, 0.01, 0.16}
        };
        for (double[] c : cases) {
            double closed = MixtureSprt.oneSidedLikelihoodRatio(c[0], c[1], c[2], c[3]);
            assertThat(closed)
                    .isCloseTo(integratedOneSided(c[0], c[1], c[2], c[3]), within(closed * 1e-6));
        }
    }

    @Test
    void shouldPutTheOneSidedBoundWhereItsMixtureReachesOneOverAlphaAndInsideTheTwoSided() {
        double v = 3e-5;
        double tau2 = 1e-4;
        for (double alpha : new double[] {0.05, 0.025, 0.001}) {
            double r = MixtureSprt.oneSidedRadius(v, tau2, alpha);
            assertThat(integratedOneSided(r, 0, v, tau2))
                    .isCloseTo(1 / alpha, within(1e-5 / alpha));
            assertThat(r).isLessThan(MixtureSprt.radius(v, tau2, alpha));
        }
    }

    @Test
    void shouldAgreeWithAnIndependentNormalDistributionFunction() {
        org.apache.commons.math3.distribution.NormalDistribution normal =
                new org.apache.commons.math3.distribution.NormalDistribution();
        for (double s = -9; s <= 9; s += 0.25) {
            double expected = normal.cumulativeProbability(s);
            assertThat(io.canaryflow.operators.drift.SpecialFunctions.normalCdf(s))
                    .isCloseTo(expected, within(Math.max(1e-14, expected * 1e-8)));
            assertThat(MixtureSprt.logPhi(s)).isCloseTo(Math.log(expected), within(1e-6));
        }
        // far in the tail, against the asymptotic series of the normal's log tail
        assertThat(MixtureSprt.logPhi(-40))
                .isCloseTo(-800 - 0.5 * Math.log(2 * Math.PI) - Math.log(40), within(1e-3));
    }

    @Test
    void shouldRejectATrueOneSidedNullAtMostAlphaOverEveryLook() {
        // Gaussian increments, 300 looks each; the null at its edge and inside it
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        double alpha = 0.05;
        for (double theta : new double[] {0.0, -0.02}) {
            int rejected = 0;
            int paths = 2_000;
            for (int path = 0; path < paths; path++) {
                double sum = 0;
                for (int n = 1; n <= 300; n++) {
                    sum += theta + UnitTraffic.gaussian(random);
                    double v = 1.0 / n;
                    if (MixtureSprt.oneSidedPValue(sum / n, 0, v, 0.01) <= alpha) {
                        rejected++;
                        break;
                    }
                }
            }
            // α plus 2 Monte-Carlo standard errors (0.97 points over 2,000 paths)
            assertThat((double) rejected / paths).isLessThanOrEqualTo(alpha + 0.0098);
        }
    }

    /**
     * Error rates correct the heaviest unit's residual by its leverage (CR2); a shadow's flip rate,
     * tested alone against its threshold, leaves it out (the jackknife): the same per-unit totals
     * give each its own variance.
     */
    @Test
    void shouldCorrectTheHeaviestUnitByItsLeverageForRatesAndLeaveItOutForAFlipRate() {
        io.canaryflow.operators.units.UnitSketch sketch =
                new io.canaryflow.operators.units.UnitSketch();
        long trials = 0;
        long events = 0;
        for (int u = 0; u < 200; u++) {
            long y = u == 0 ? 6_000 : 20;
            long x = u == 0 ? 60 : (u % 3 == 0 ? 1 : 0);
            sketch.add(io.canaryflow.operators.units.UnitSketch.hash("u-" + u), y, x, 0, 0, 1);
            trials += y;
            events += x;
        }
        ArmCounts arm =
                ArmCounts.builder()
                        .attempts(trials)
                        .errors(events)
                        .units(sketch)
                        .pairs(trials)
                        .flips(events)
                        .pairUnits(sketch)
                        .build();
        Statistic.Proportion rate =
                (Statistic.Proportion) Statistic.of(arm, Guardrail.Metric.INFERENCE_ERROR_RATE);
        Statistic.Proportion flips =
                (Statistic.Proportion) Statistic.of(arm, Guardrail.Metric.FLIP_RATE);
        double n = rate.effectiveUnits();
        double byLeverage =
                sketch.ratioVarianceByLeverageOfTheHeaviest(
                        io.canaryflow.operators.units.UnitSketch.Quantity.ERRORS,
                        io.canaryflow.operators.units.UnitSketch.Quantity.ATTEMPTS,
                        events,
                        trials,
                        (double) events / trials);
        double leftOut =
                sketch.ratioVarianceLeavingOutTheHeaviest(
                        io.canaryflow.operators.units.UnitSketch.Quantity.ERRORS,
                        io.canaryflow.operators.units.UnitSketch.Quantity.ATTEMPTS,
                        events,
                        trials);
        assertThat(leftOut).isGreaterThan(1.5 * byLeverage); // a unit with 60 % of the trials
        assertThat(rate.overUnits()).isCloseTo(byLeverage * n / (n - 1), within(1e-15));
        assertThat(flips.overUnits()).isCloseTo(leftOut * n / (n - 1), within(1e-15));
    }
}
