package io.canaryflow.operators.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import java.util.Random;
import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;
import org.junit.jupiter.api.Test;

/**
 * Each statistic against an independent value: a hand computation (values from a separate Python
 * computation), a published table, a closed form, or commons-math's implementation.
 */
class StatisticsTest {

    @Test
    void shouldComputePsiAsByHand() {
        Psi.Result r =
                Psi.of(
                        new long[] {10, 20, 30, 40},
                        new double[] {.25, .25, .25, .25},
                        Psi.DEFAULT_EPSILON);
        assertThat(r.value()).isCloseTo(0.22821740957339182, offset(1e-12));
        assertThat(r.observations()).isEqualTo(100);
        assertThat(r.emptyBins()).isZero();
        assertThat(r.terms()[0] + r.terms()[1] + r.terms()[2] + r.terms()[3])
                .isCloseTo(r.value(), offset(1e-15));
    }

    @Test
    void shouldReplaceEmptyBinsByEpsilonAndReportThemInsteadOfDroppingTheTerm() {
        Psi.Result r = Psi.of(new long[] {0, 50, 50}, new double[] {.2, .4, .4}, 1e-4);
        assertThat(r.value()).isCloseTo(1.5640491119253042, offset(1e-12));
        assertThat(r.emptyBins()).isEqualTo(1);
        assertThat(r.epsilon()).isEqualTo(1e-4);
    }

    @Test
    void shouldEqualTheSumOfBothKullbackLeiblerDivergences() {
        Random random = new Random(3);
        for (int trial = 0; trial < 100; trial++) {
            int k = 2 + random.nextInt(10);
            long[] counts = new long[k];
            double[] e = new double[k];
            double total = 0;
            long n = 0;
            for (int i = 0; i < k; i++) {
                counts[i] = 1 + random.nextInt(1000);
                n += counts[i];
                e[i] = 0.01 + random.nextDouble();
                total += e[i];
            }
            double klAe = 0;
            double klEa = 0;
            for (int i = 0; i < k; i++) {
                e[i] /= total;
                double a = (double) counts[i] / n;
                klAe += a * Math.log(a / e[i]);
                klEa += e[i] * Math.log(e[i] / a);
            }
            assertThat(Psi.of(counts, e, Psi.DEFAULT_EPSILON).value())
                    .isCloseTo(klAe + klEa, offset(1e-12));
        }
    }

    @Test
    void shouldReturnNaNPsiForNoObservationsAndRejectMismatchedBins() {
        assertThat(Psi.of(new long[] {0, 0}, new double[] {.5, .5}, 1e-4).value()).isNaN();
        assertThatThrownBy(() -> Psi.of(new long[] {1}, new double[] {.5, .5}, 1e-4))
                .hasMessageContaining("1 observed bins but 2 reference bins");
    }

    @Test
    void shouldMatchPublishedChiSquareCriticalValuesAndClosedForms() {
        // Critical values from the standard χ² table.
        assertThat(SpecialFunctions.chiSquareSurvival(3.841459, 1)).isCloseTo(0.05, offset(1e-6));
        assertThat(SpecialFunctions.chiSquareSurvival(11.070498, 5)).isCloseTo(0.05, offset(1e-6));
        assertThat(SpecialFunctions.chiSquareSurvival(23.209251, 10)).isCloseTo(0.01, offset(1e-6));
        assertThat(SpecialFunctions.chiSquareSurvival(29.588298, 10))
                .isCloseTo(0.001, offset(1e-7));
        // Two degrees of freedom: the survival function is exp(-x/2).
        assertThat(SpecialFunctions.chiSquareSurvival(4, 2))
                .isCloseTo(0.1353352832366127, offset(1e-13));
        assertThat(SpecialFunctions.logGamma(5)).isCloseTo(Math.log(24), offset(1e-13));
        assertThat(SpecialFunctions.logGamma(0.5)).isCloseTo(0.5723649429247001, offset(1e-13));
    }

    @Test
    void shouldMatchCommonsMathChiSquareTests() {
        Random random = new Random(5);
        ChiSquareTest reference = new ChiSquareTest();
        for (int trial = 0; trial < 50; trial++) {
            int k = 2 + random.nextInt(8);
            long[] a = new long[k];
            long[] b = new long[k];
            double[] expected = new double[k];
            long n = 0;
            for (int i = 0; i < k; i++) {
                a[i] = 5 + random.nextInt(200);
                b[i] = 5 + random.nextInt(300);
                n += a[i];
                expected[i] = 1 + random.nextInt(10);
            }
            double sum = java.util.Arrays.stream(expected).sum();
            double[] expectedCounts = new double[k];
            double[] fractions = new double[k];
            for (int i = 0; i < k; i++) {
                fractions[i] = expected[i] / sum;
                expectedCounts[i] = fractions[i] * n;
            }
            ChiSquare.Result fit = ChiSquare.goodnessOfFit(a, fractions);
            assertThat(fit.statistic())
                    .isCloseTo(reference.chiSquare(expectedCounts, a), offset(1e-9));
            assertThat(fit.pValue())
                    .isCloseTo(reference.chiSquareTest(expectedCounts, a), offset(1e-9));
            assertThat(fit.degreesOfFreedom()).isEqualTo(k - 1);

            ChiSquare.Result homogeneity = ChiSquare.homogeneity(a, b);
            assertThat(homogeneity.statistic())
                    .isCloseTo(reference.chiSquareDataSetsComparison(a, b), offset(1e-9));
            assertThat(homogeneity.pValue())
                    .isCloseTo(reference.chiSquareTestDataSetsComparison(a, b), offset(1e-9));
        }
    }

    @Test
    void shouldMatchPublishedKolmogorovCriticalValues() {
        // The classic asymptotic critical values: K_0.05 = 1.3581, K_0.01 = 1.6276.
        assertThat(SpecialFunctions.kolmogorovSurvival(1.3581)).isCloseTo(0.05, offset(1e-4));
        assertThat(SpecialFunctions.kolmogorovSurvival(1.6276)).isCloseTo(0.01, offset(1e-4));
        // Both series forms agree where they meet.
        assertThat(SpecialFunctions.kolmogorovSurvival(0.9999999))
                .isCloseTo(SpecialFunctions.kolmogorovSurvival(1.0000001), offset(1e-6));
        assertThat(SpecialFunctions.kolmogorovSurvival(0)).isEqualTo(1);
    }

    @Test
    void shouldMatchCommonsMathKolmogorovSmirnovOnLargeSamples() {
        Random random = new Random(7);
        KolmogorovSmirnovTest reference = new KolmogorovSmirnovTest();
        for (double shift : new double[] {0, 0.05, 0.1, 0.25}) {
            double[] a = new double[600];
            double[] b = new double[500];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = random.nextGaussian() + shift;
            }
            KolmogorovSmirnov.Result r = KolmogorovSmirnov.samples(a, b);
            assertThat(r.statistic())
                    .isCloseTo(reference.kolmogorovSmirnovStatistic(a, b), offset(1e-12));
            assertThat(r.pValue()).isCloseTo(reference.kolmogorovSmirnovTest(a, b), offset(1e-6));
        }
    }

    @Test
    void shouldGiveTheExactStatisticFromBinsWhenEveryValueHasItsOwnBin() {
        Random random = new Random(9);
        double[] a = new double[300];
        double[] b = new double[400];
        long[] ha = new long[10];
        long[] hb = new long[10];
        for (int i = 0; i < a.length; i++) {
            a[i] = random.nextInt(10);
            ha[(int) a[i]]++;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = Math.min(9, random.nextInt(10) + random.nextInt(2));
            hb[(int) b[i]]++;
        }
        assertThat(KolmogorovSmirnov.binned(ha, hb).statistic())
                .isCloseTo(KolmogorovSmirnov.samples(a, b).statistic(), offset(1e-15));
        assertThat(KolmogorovSmirnov.binned(new long[] {0, 0}, new long[] {1, 2}).statistic())
                .isNaN();
    }

    @Test
    void shouldComputeJensenShannonAsByHand() {
        // P = (1, 0), Q = (1/2, 1/2), M = (3/4, 1/4):
        // ½·log2(4/3) + ½·(½·log2(2/3) + ½·log2(2)) = 0.31127812445913283
        assertThat(JensenShannon.divergence(new double[] {1, 0}, new double[] {.5, .5}))
                .isCloseTo(0.31127812445913283, offset(1e-12));
        assertThat(JensenShannon.divergence(new long[] {3, 0}, new long[] {0, 7}))
                .isCloseTo(1, offset(1e-15));
        assertThat(JensenShannon.divergence(new long[] {2, 4}, new long[] {1, 2}))
                .isCloseTo(0, offset(1e-15));
        assertThat(JensenShannon.divergence(new long[] {0, 0}, new long[] {1, 2})).isNaN();
    }

    @Test
    void shouldAdjustPValuesLikeBenjaminiHochberg() {
        // By hand: sorted 0.005, 0.01, 0.03, 0.04 with m = 4 → 0.02, 0.02, 0.04, 0.04.
        double[] q = BenjaminiHochberg.adjust(new double[] {0.01, 0.04, 0.03, 0.005});
        assertThat(q).containsExactly(new double[] {0.02, 0.04, 0.04, 0.02}, offset(1e-15));
        // By hand, m = 8, from the largest down: 0.205; 0.074·8/7 = 0.08457; 0.06·8/6 = 0.08;
        // 0.042·8/5 = 0.0672; 0.041·8/4 = 0.082 → 0.0672; 0.039·8/3 = 0.104 → 0.0672;
        // 0.008·8/2 = 0.032; 0.001·8 = 0.008.
        assertThat(
                        BenjaminiHochberg.adjust(
                                new double[] {
                                    0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205
                                }))
                .containsExactly(
                        new double[] {
                            0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.0845714285714286, 0.205
                        },
                        offset(1e-12));
        assertThat(BenjaminiHochberg.discoveries(new double[] {0.01, Double.NaN, 0.9}, 0.05))
                .containsExactly(true, false, false);
    }
}
