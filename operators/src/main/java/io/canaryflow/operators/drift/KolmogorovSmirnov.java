package io.canaryflow.operators.drift;

import java.util.Arrays;

/**
 * Two-sample Kolmogorov-Smirnov statistic {@code D = sup_x |F_a(x) − F_b(x)|}.
 *
 * <ul>
 *   <li>{@link #samples}: exact D of two samples; p-value from the asymptotic Kolmogorov
 *       distribution, {@code P(K > D·√(nm/(n+m)))}, which is accurate for {@code nm/(n+m)} of about
 *       40 and more and conservative-to-slightly-liberal below (the exact small-sample distribution
 *       is not computed).
 *   <li>{@link #binned}: D from two histograms over the same bins, evaluated at the bin edges only.
 *       It is a lower bound of the D of the underlying samples — the supremum may fall inside a bin
 *       — and equals it when every distinct value has its own bin. The p-value is computed as for
 *       samples and is therefore anti-conservative by the same token.
 * </ul>
 */
public final class KolmogorovSmirnov {
    /**
     * @param statistic D, in [0, 1]; NaN if either side is empty
     * @param pValue asymptotic p-value; NaN if either side is empty
     */
    public record Result(double statistic, double pValue, long n, long m) {}

    private KolmogorovSmirnov() {}

    /** Exact D of two samples (NaN values are not allowed); either empty gives NaN. */
    public static Result samples(double[] a, double[] b) {
        if (a.length == 0 || b.length == 0) {
            return new Result(Double.NaN, Double.NaN, a.length, b.length);
        }
        double[] x = a.clone();
        double[] y = b.clone();
        Arrays.sort(x);
        Arrays.sort(y);
        if (Double.isNaN(x[x.length - 1]) || Double.isNaN(y[y.length - 1])) {
            throw new IllegalArgumentException("samples must not contain NaN");
        }
        int i = 0;
        int j = 0;
        double d = 0;
        while (i < x.length && j < y.length) {
            double v = Math.min(x[i], y[j]);
            while (i < x.length && x[i] == v) {
                i++;
            }
            while (j < y.length && y[j] == v) {
                j++;
            }
            d = Math.max(d, Math.abs((double) i / x.length - (double) j / y.length));
        }
        return new Result(d, pValue(d, x.length, y.length), x.length, y.length);
    }

    /** D at the bin edges of two histograms over the same bins; either empty gives NaN. */
    public static Result binned(long[] a, long[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " bins against " + b.length);
        }
        long n = Arrays.stream(a).sum();
        long m = Arrays.stream(b).sum();
        if (n == 0 || m == 0) {
            return new Result(Double.NaN, Double.NaN, n, m);
        }
        long ca = 0;
        long cb = 0;
        double d = 0;
        for (int k = 0; k < a.length; k++) {
            ca += a[k];
            cb += b[k];
            d = Math.max(d, Math.abs((double) ca / n - (double) cb / m));
        }
        return new Result(d, pValue(d, n, m), n, m);
    }

    /**
     * An upper bound of the exact D of the samples behind two histograms over the same bins: within
     * bin k each empirical CDF stays between its values at the bin's edges, so their difference is
     * at most {@code max(|A_k - B_(k-1)|, |B_k - A_(k-1)|)} there. With {@link #binned} (a lower
     * bound) it brackets the exact statistic; NaN if either is empty.
     */
    public static double binnedUpperBound(long[] a, long[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " bins against " + b.length);
        }
        long n = Arrays.stream(a).sum();
        long m = Arrays.stream(b).sum();
        if (n == 0 || m == 0) {
            return Double.NaN;
        }
        double before = 0;
        double beforeB = 0;
        double upper = 0;
        long ca = 0;
        long cb = 0;
        for (int k = 0; k < a.length; k++) {
            ca += a[k];
            cb += b[k];
            double fa = (double) ca / n;
            double fb = (double) cb / m;
            upper = Math.max(upper, Math.max(Math.abs(fa - beforeB), Math.abs(fb - before)));
            before = fa;
            beforeB = fb;
        }
        return upper;
    }

    /** Asymptotic two-sample p-value of D for sample sizes n and m. */
    public static double pValue(double d, long n, long m) {
        double effective = (double) n * m / (n + m);
        return SpecialFunctions.kolmogorovSurvival(d * Math.sqrt(effective));
    }
}
