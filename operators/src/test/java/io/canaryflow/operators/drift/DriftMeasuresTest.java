package io.canaryflow.operators.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import io.canaryflow.modelloader.ReferenceBins;
import java.util.List;
import java.util.Random;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;

class DriftMeasuresTest {
    static final NormalDistribution STANDARD = new NormalDistribution(0, 1);

    /** Reference: exact deciles of N(0, 1), 10 % per bin, as a manifest would hold them. */
    static ReferenceBins deciles() {
        double[] edges = new double[9];
        double[] fractions = new double[10];
        for (int i = 0; i < 9; i++) {
            edges[i] = STANDARD.inverseCumulativeProbability((i + 1) / 10.0);
        }
        java.util.Arrays.fill(fractions, 0.1);
        return new ReferenceBins(edges, fractions, 100_000);
    }

    /** PSI of N(mu, 1) against the deciles of N(0, 1), from the normal CDF (closed form). */
    static double exactPsi(ReferenceBins bins, double mu) {
        double psi = 0;
        double[] e = bins.edges();
        for (int i = 0; i <= e.length; i++) {
            double lo = i == 0 ? Double.NEGATIVE_INFINITY : e[i - 1];
            double hi = i == e.length ? Double.POSITIVE_INFINITY : e[i];
            double a =
                    STANDARD.cumulativeProbability(hi - mu)
                            - STANDARD.cumulativeProbability(lo - mu);
            psi += (a - 0.1) * Math.log(a / 0.1);
        }
        return psi;
    }

    static Histograms sample(ReferenceBins bins, double mu, int n, long seed) {
        Histograms h = new Histograms(List.of(bins));
        Random random = new Random(seed);
        for (int i = 0; i < n; i++) {
            h.add(0, random.nextGaussian() + mu);
        }
        return h;
    }

    @Test
    void shouldMeasureAOneSigmaShiftAsTheClosedFormPredictsAndAlert() {
        ReferenceBins bins = deciles();
        Histograms shifted = sample(bins, 1.0, 200_000, 1);
        DriftMeasures.Result r =
                DriftMeasures.compare(
                        bins,
                        shifted.counts(0),
                        shifted.nonFinite(0),
                        DriftMeasures.Thresholds.defaults());
        assertThat(exactPsi(bins, 1.0)).isGreaterThan(0.25);
        assertThat(r.psi()).isCloseTo(exactPsi(bins, 1.0), offset(0.02));
        assertThat(r.level()).isEqualTo(DriftMeasures.Level.ALERT);
        // KS between N(1,1) and N(0,1) is 2Φ(0.5) − 1 = 0.3829; at decile edges it is a little
        // less.
        assertThat(r.ksStatistic()).isBetween(0.36, 0.3829 + 0.01);
        assertThat(r.ksPValue()).isLessThan(1e-12);
    }

    @Test
    void shouldStayBelowWarnWithoutShiftAndReportInsufficientBelowMinimumCount() {
        ReferenceBins bins = deciles();
        Histograms same = sample(bins, 0, 20_000, 2);
        DriftMeasures.Result r =
                DriftMeasures.compare(bins, same.counts(0), 0, DriftMeasures.Thresholds.defaults());
        assertThat(r.psi()).isLessThan(0.01);
        assertThat(r.level()).isEqualTo(DriftMeasures.Level.OK);
        assertThat(r.jensenShannon()).isLessThan(0.001);

        Histograms few = sample(bins, 3, 99, 3);
        DriftMeasures.Result insufficient =
                DriftMeasures.compare(bins, few.counts(0), 0, DriftMeasures.Thresholds.defaults());
        assertThat(insufficient.insufficient()).isTrue();
        assertThat(insufficient.level()).isEqualTo(DriftMeasures.Level.INSUFFICIENT);
        assertThat(insufficient.psi()).isNaN();
        assertThat(insufficient.n()).isEqualTo(99);
    }

    @Test
    void shouldCountNonFiniteValuesApartAndMergeByAddingCounts() {
        ReferenceBins bins = new ReferenceBins(new double[] {0, 1}, new double[] {.3, .4, .3}, 10);
        Histograms a = new Histograms(List.of(bins, bins));
        Histograms b = new Histograms(List.of(bins, bins));
        a.add(0, -5);
        a.add(0, Double.NaN);
        a.add(1, 0.5);
        b.add(0, 7);
        b.add(0, Double.POSITIVE_INFINITY);
        a.merge(b);
        assertThat(a.counts(0)).containsExactly(1, 0, 1);
        assertThat(a.nonFinite(0)).isEqualTo(2);
        assertThat(a.counts(1)).containsExactly(0, 1, 0);
    }

    @Test
    void shouldTestACategoricalFeatureWithChiSquareAsComputedByHand() {
        // reference: 700 zeros, 300 ones; window: 50 and 50
        ReferenceBins flag =
                new ReferenceBins(
                        new double[0], new double[] {0.7, 0.3, 0}, 1_000, new double[] {0, 1});
        DriftMeasures.Result r =
                DriftMeasures.compare(
                        flag,
                        new long[] {50, 50, 0},
                        0,
                        new DriftMeasures.Thresholds(0.1, 0.25, 10, 1e-4));
        assertThat(r.categorical()).isTrue();
        // 2x2 homogeneity by hand: column totals 750 and 350 of 1100
        assertThat(r.chiSquare()).isCloseTo(16.761904761904766, offset(1e-9));
        assertThat(r.chiSquareDf()).isEqualTo(1);
        assertThat(r.chiSquarePValue())
                .isCloseTo(
                        1
                                - new org.apache.commons.math3.distribution.ChiSquaredDistribution(
                                                1)
                                        .cumulativeProbability(16.761904761904766),
                        offset(1e-9));
        assertThat(r.pValue()).isEqualTo(r.chiSquarePValue());
        assertThat(r.ksStatistic()).isNaN();
        // PSI: (0.5-0.7)ln(0.5/0.7) + (0.5-0.3)ln(0.5/0.3); the empty other bin adds 0
        assertThat(r.psi()).isCloseTo(0.16945957207744072, offset(1e-12));
        assertThat(r.level()).isEqualTo(DriftMeasures.Level.WARN);
    }

    @Test
    void shouldCompareTwoWindowsOverTheSameBinsAndNeedEnoughInBoth() {
        DriftMeasures.Thresholds t = new DriftMeasures.Thresholds(0.1, 0.25, 100, 1e-4);
        long[] control = {100, 200, 300, 400};
        DriftMeasures.Result same = DriftMeasures.between(control.clone(), 0, control, false, t);
        assertThat(same.psi()).isZero();
        assertThat(same.ksStatistic()).isZero();
        assertThat(same.level()).isEqualTo(DriftMeasures.Level.OK);
        // a candidate putting 10/20/30/40 % the other way round
        long[] candidate = {400, 300, 200, 100};
        double expected = 0;
        for (int i = 0; i < 4; i++) {
            double a = candidate[i] / 1000.0;
            double e = control[i] / 1000.0;
            expected += (a - e) * Math.log(a / e);
        }
        DriftMeasures.Result flipped = DriftMeasures.between(candidate, 0, control, false, t);
        assertThat(flipped.psi()).isCloseTo(expected, offset(1e-12));
        assertThat(flipped.ksStatistic()).isCloseTo(0.4, offset(1e-12)); // at the second edge
        assertThat(flipped.level()).isEqualTo(DriftMeasures.Level.ALERT);
        assertThat(
                        DriftMeasures.between(candidate, 0, new long[] {10, 10, 10, 10}, false, t)
                                .level())
                .isEqualTo(DriftMeasures.Level.INSUFFICIENT);
    }

    @Test
    void shouldPoolCategoriesExpectedFewerThanFiveTimesBeforeChiSquare() {
        // the last two categories are expected 0.9 and 0.1 times in the smaller sample: pooled
        // they are still expected once only, so they join the rarest other category (the second)
        long[] window = {60, 38, 2, 0};
        long[] reference = {600, 391, 8, 1};
        ChiSquare.Result pooled = ChiSquare.homogeneityPooled(window, reference, 5);
        ChiSquare.Result byHand = ChiSquare.homogeneity(new long[] {60, 40}, new long[] {600, 400});
        assertThat(pooled.statistic()).isEqualTo(byHand.statistic());
        assertThat(pooled.degreesOfFreedom()).isEqualTo(1);
        assertThat(ChiSquare.homogeneity(window, reference).degreesOfFreedom()).isEqualTo(3);
        // enough of them together: one pooled category of their own
        ChiSquare.Result own =
                ChiSquare.homogeneityPooled(
                        new long[] {60, 30, 4, 4}, new long[] {600, 300, 40, 40}, 5);
        assertThat(own.degreesOfFreedom()).isEqualTo(2);
        assertThat(own.statistic()).isZero();
    }

    @Test
    void shouldBracketTheExactKsStatisticBetweenTheBinnedBounds() {
        ReferenceBins bins = deciles();
        Random random = new Random(3);
        for (double mu : new double[] {0, 0.1, 0.5, 1.0}) {
            double[] a = new double[400];
            double[] b = new double[2_000];
            Histograms ha = new Histograms(List.of(bins));
            Histograms hb = new Histograms(List.of(bins));
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextGaussian() + mu;
                ha.add(0, a[i]);
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = random.nextGaussian();
                hb.add(0, b[i]);
            }
            double exact = KolmogorovSmirnov.samples(a, b).statistic();
            double lower = KolmogorovSmirnov.binned(ha.counts(0), hb.counts(0)).statistic();
            double upper = KolmogorovSmirnov.binnedUpperBound(ha.counts(0), hb.counts(0));
            assertThat(exact).as("mu %s", mu).isBetween(lower, upper);
            assertThat(upper - lower).as("mu %s", mu).isLessThanOrEqualTo(0.2); // decile bins
        }
    }
}
