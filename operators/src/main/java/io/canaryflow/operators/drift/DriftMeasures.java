package io.canaryflow.operators.drift;

import io.canaryflow.modelloader.ReferenceBins;

/**
 * One quantity's drift against its reference bins: PSI (ε for empty bins, reported), binned
 * two-sample KS against the reference sample's counts for numeric quantities (see {@link
 * KolmogorovSmirnov#binned} for what binning costs) or χ² homogeneity for categorical ones
 * (categories expected fewer than 5 times pooled, see {@link ChiSquare#homogeneityPooled}), and
 * Jensen-Shannon divergence. A level above OK needs both PSI at its threshold and the test to
 * reject at {@link #LEVEL_TEST_P}. Below {@code minCount} finite observations the measures are not
 * computed: {@link Result#insufficient()} is true, the values NaN and the level {@link
 * Level#INSUFFICIENT}.
 */
public final class DriftMeasures {
    /** How a PSI value reads against the thresholds. */
    public enum Level {
        OK,
        WARN,
        ALERT,
        INSUFFICIENT
    }

    /** Thresholds: PSI at or above {@code warn} warns, at or above {@code alert} alerts. */
    public record Thresholds(double warn, double alert, long minCount, double epsilon)
            implements java.io.Serializable {
        public Thresholds {
            if (!(warn > 0 && alert >= warn)) {
                throw new IllegalArgumentException(
                        String.format(
                                "need 0 < warn <= alert, got warn %s, alert %s", warn, alert));
            }
            if (minCount < 1) {
                throw new IllegalArgumentException("minimum count must be >= 1, got " + minCount);
            }
        }

        /** 0.1 warn, 0.25 alert, 100 observations, ε = 1e-4. */
        public static Thresholds defaults() {
            return new Thresholds(0.1, 0.25, 100, Psi.DEFAULT_EPSILON);
        }
    }

    /**
     * @param n finite observations
     * @param nonFinite non-finite observations, not binned
     * @param categorical whether the quantity is categorical: then the test is χ² (homogeneity of
     *     the window's and the reference's category counts) and KS is not computed (NaN)
     * @param ksStatistic binned two-sample KS D (numeric quantities): D at the bin edges, a lower
     *     bound of the exact two-sample statistic
     * @param ksUpperBound an upper bound of the exact statistic ({@link
     *     KolmogorovSmirnov#binnedUpperBound}): the binning error is at most {@code ksUpperBound -
     *     ksStatistic}
     * @param chiSquare χ² homogeneity statistic (categorical quantities), with {@code chiSquareDf}
     *     degrees of freedom and p-value {@code chiSquarePValue}
     */
    public record Result(
            long n,
            long nonFinite,
            boolean insufficient,
            boolean categorical,
            double psi,
            int psiEmptyBins,
            double ksStatistic,
            double ksUpperBound,
            double ksPValue,
            double chiSquare,
            int chiSquareDf,
            double chiSquarePValue,
            double jensenShannon,
            Level level) {

        /** The p-value of the quantity's test: χ² for categorical ones, else KS. */
        public double pValue() {
            return categorical ? chiSquarePValue : ksPValue;
        }
    }

    private DriftMeasures() {}

    /**
     * A WARN or ALERT by PSI needs the quantity's test (KS, or χ² for categorical quantities) to
     * reject at this level too; otherwise the level is OK. Without drift, levels then fire in at
     * most about this share of windows whatever the window's size.
     */
    public static final double LEVEL_TEST_P = 0.01;

    /** Drift of a window's bin counts against a manifest's reference bins. */
    public static Result compare(
            ReferenceBins reference, long[] counts, long nonFinite, Thresholds t) {
        long[] referenceCounts = new long[reference.bins()];
        for (int i = 0; i < referenceCounts.length; i++) {
            referenceCounts[i] = Math.round(reference.fractions()[i] * reference.n());
        }
        return compare(
                counts,
                nonFinite,
                reference.fractions(),
                referenceCounts,
                reference.categorical(),
                t);
    }

    /**
     * Drift of one window's bin counts against another's over the same bins (a candidate against
     * its control cohort): PSI against the other's fractions, two-sample tests on both counts.
     * Insufficient unless both have {@code minCount} observations.
     */
    public static Result between(
            long[] counts, long nonFinite, long[] otherCounts, boolean categorical, Thresholds t) {
        if (sum(otherCounts) < t.minCount()) {
            return insufficient(sum(counts), nonFinite, categorical);
        }
        return compare(counts, nonFinite, fractions(otherCounts), otherCounts, categorical, t);
    }

    /** Each bin's share of the counts (all 0 when there are none). */
    public static double[] fractions(long[] counts) {
        long m = sum(counts);
        double[] fractions = new double[counts.length];
        for (int i = 0; i < fractions.length; i++) {
            fractions[i] = m == 0 ? 0 : (double) counts[i] / m;
        }
        return fractions;
    }

    private static Result compare(
            long[] counts,
            long nonFinite,
            double[] referenceFractions,
            long[] referenceCounts,
            boolean categorical,
            Thresholds t) {
        long n = sum(counts);
        if (n < t.minCount()) {
            return insufficient(n, nonFinite, categorical);
        }
        Psi.Result psi = Psi.of(counts, referenceFractions, t.epsilon());
        double ksD = Double.NaN;
        double ksUpper = Double.NaN;
        double ksP = Double.NaN;
        double chi2 = Double.NaN;
        int df = 0;
        double chi2P = Double.NaN;
        if (categorical) {
            ChiSquare.Result c = ChiSquare.homogeneityPooled(counts, referenceCounts, 5);
            chi2 = c.statistic();
            df = c.degreesOfFreedom();
            chi2P = c.pValue();
        } else {
            KolmogorovSmirnov.Result ks = KolmogorovSmirnov.binned(counts, referenceCounts);
            ksD = ks.statistic();
            ksUpper = KolmogorovSmirnov.binnedUpperBound(counts, referenceCounts);
            ksP = ks.pValue();
        }
        double js = JensenShannon.divergence(counts, referenceCounts);
        Level byPsi =
                psi.value() >= t.alert()
                        ? Level.ALERT
                        : psi.value() >= t.warn() ? Level.WARN : Level.OK;
        // A PSI level needs the difference to be real, not the window's sampling noise (whose PSI
        // alone averages about (bins − 1)/n: 0.09 at 10 bins and 100 observations): the
        // quantity's test must reject that the window is drawn like its reference.
        double testP = categorical ? chi2P : ksP;
        Level level = byPsi != Level.OK && !(testP < LEVEL_TEST_P) ? Level.OK : byPsi;
        return new Result(
                n,
                nonFinite,
                false,
                categorical,
                psi.value(),
                psi.emptyBins(),
                ksD,
                ksUpper,
                ksP,
                chi2,
                df,
                chi2P,
                js,
                level);
    }

    private static Result insufficient(long n, long nonFinite, boolean categorical) {
        return new Result(
                n,
                nonFinite,
                true,
                categorical,
                Double.NaN,
                0,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                0,
                Double.NaN,
                Double.NaN,
                Level.INSUFFICIENT);
    }

    private static long sum(long[] counts) {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        return n;
    }
}
