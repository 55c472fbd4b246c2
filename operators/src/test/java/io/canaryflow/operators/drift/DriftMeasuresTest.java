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
}
