package io.canaryflow.operators.drift;

import io.canaryflow.modelloader.ReferenceBins;

/**
 * One quantity's drift against its reference bins: PSI (ε for empty bins, reported), binned
 * two-sample KS against the reference sample's counts (see {@link KolmogorovSmirnov#binned} for
 * what binning costs), and Jensen-Shannon divergence. Below {@code minCount} finite observations
 * the measures are not computed: {@link Result#insufficient()} is true, the values NaN and the
 * level {@link Level#INSUFFICIENT}.
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
     */
    public record Result(
            long n,
            long nonFinite,
            boolean insufficient,
            double psi,
            int psiEmptyBins,
            double ksStatistic,
            double ksPValue,
            double jensenShannon,
            Level level) {}

    private DriftMeasures() {}

    public static Result compare(
            ReferenceBins reference, long[] counts, long nonFinite, Thresholds t) {
        long n = 0;
        for (long c : counts) {
            n += c;
        }
        if (n < t.minCount()) {
            return new Result(
                    n,
                    nonFinite,
                    true,
                    Double.NaN,
                    0,
                    Double.NaN,
                    Double.NaN,
                    Double.NaN,
                    Level.INSUFFICIENT);
        }
        Psi.Result psi = Psi.of(counts, reference.fractions(), t.epsilon());
        long[] referenceCounts = new long[reference.bins()];
        for (int i = 0; i < referenceCounts.length; i++) {
            referenceCounts[i] = Math.round(reference.fractions()[i] * reference.n());
        }
        KolmogorovSmirnov.Result ks = KolmogorovSmirnov.binned(counts, referenceCounts);
        double js = JensenShannon.divergence(counts, referenceCounts);
        Level level =
                psi.value() >= t.alert()
                        ? Level.ALERT
                        : psi.value() >= t.warn() ? Level.WARN : Level.OK;
        return new Result(
                n,
                nonFinite,
                false,
                psi.value(),
                psi.emptyBins(),
                ks.statistic(),
                ks.pValue(),
                js,
                level);
    }
}
