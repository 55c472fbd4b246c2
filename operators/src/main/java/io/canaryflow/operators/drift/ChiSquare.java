package io.canaryflow.operators.drift;

/**
 * Pearson's χ² tests over categories (or bins), with p-values from the χ² distribution.
 *
 * <ul>
 *   <li>{@link #goodnessOfFit}: observed counts against expected fractions, {@code k − 1} degrees
 *       of freedom over the categories with a non-zero expected fraction;
 *   <li>{@link #homogeneity}: two samples' counts over the same categories (a 2 × k contingency
 *       table), {@code k − 1} degrees of freedom over the categories seen at least once.
 * </ul>
 *
 * The χ² approximation wants expected counts of about 5 or more per category; callers apply their
 * minimum counts before judging.
 */
public final class ChiSquare {
    /**
     * @param statistic χ²; NaN with no observations; +∞ if a category expected never to occur was
     *     observed
     * @param degreesOfFreedom categories used minus one
     * @param pValue upper-tail probability; NaN with no observations or no degrees of freedom
     */
    public record Result(
            double statistic, int degreesOfFreedom, double pValue, long observations) {}

    private ChiSquare() {}

    public static Result goodnessOfFit(long[] observed, double[] expectedFractions) {
        if (observed.length != expectedFractions.length) {
            throw new IllegalArgumentException(
                    observed.length + " categories against " + expectedFractions.length);
        }
        long n = 0;
        double total = 0;
        for (int i = 0; i < observed.length; i++) {
            n += observed[i];
            total += expectedFractions[i];
        }
        if (n == 0) {
            return new Result(Double.NaN, 0, Double.NaN, 0);
        }
        double chi2 = 0;
        int used = 0;
        for (int i = 0; i < observed.length; i++) {
            double expected = n * expectedFractions[i] / total;
            if (expected == 0) {
                if (observed[i] > 0) {
                    return new Result(Double.POSITIVE_INFINITY, observed.length - 1, 0, n);
                }
                continue;
            }
            used++;
            double diff = observed[i] - expected;
            chi2 += diff * diff / expected;
        }
        int df = used - 1;
        return new Result(
                chi2, df, df > 0 ? SpecialFunctions.chiSquareSurvival(chi2, df) : Double.NaN, n);
    }

    public static Result homogeneity(long[] a, long[] b) {
        long[] totals = totals(a, b);
        return homogeneity(a, b, totals[0], totals[1]);
    }

    /** The sums of {@code a} and of {@code b}, which must have as many categories. */
    private static long[] totals(long[] a, long[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " categories against " + b.length);
        }
        long na = 0;
        long nb = 0;
        for (int i = 0; i < a.length; i++) {
            na += a[i];
            nb += b[i];
        }
        return new long[] {na, nb};
    }

    /**
     * {@link #homogeneity(long[], long[])} of categories whose sums are {@code na} and {@code nb}.
     */
    private static Result homogeneity(long[] a, long[] b, long na, long nb) {
        if (na == 0 || nb == 0) {
            return new Result(Double.NaN, 0, Double.NaN, na + nb);
        }
        double n = na + nb;
        double chi2 = 0;
        int used = 0;
        for (int i = 0; i < a.length; i++) {
            double column = a[i] + b[i];
            if (column == 0) {
                continue;
            }
            used++;
            double ea = column * na / n;
            double eb = column * nb / n;
            chi2 += (a[i] - ea) * (a[i] - ea) / ea + (b[i] - eb) * (b[i] - eb) / eb;
        }
        int df = used - 1;
        return new Result(
                chi2,
                df,
                df > 0 ? SpecialFunctions.chiSquareSurvival(chi2, df) : Double.NaN,
                na + nb);
    }

    /**
     * {@link #homogeneity} after pooling sparse categories: every category whose expected count in
     * either sample is below {@code minExpected} is merged into one category, itself folded into
     * the rarest other category if still that sparse (Cochran's rule of thumb, 5, keeps the χ²
     * approximation from inflating rare categories' evidence).
     */
    public static Result homogeneityPooled(long[] a, long[] b, double minExpected) {
        long[] totals = totals(a, b);
        long na = totals[0];
        long nb = totals[1];
        double n = na + nb;
        double smaller = Math.min(na, nb);
        long[] pa = new long[a.length + 1];
        long[] pb = new long[b.length + 1];
        int k = 0;
        long restA = 0;
        long restB = 0;
        for (int i = 0; i < a.length; i++) {
            double column = a[i] + b[i];
            if (n > 0 && column * smaller / n < minExpected) {
                restA += a[i];
                restB += b[i];
            } else {
                pa[k] = a[i];
                pb[k] = b[i];
                k++;
            }
        }
        if (k > 0 && (restA + restB) * smaller / n < minExpected) {
            // still too sparse alone: fold it into the rarest remaining category
            int rarest = 0;
            for (int i = 1; i < k; i++) {
                if (pa[i] + pb[i] < pa[rarest] + pb[rarest]) {
                    rarest = i;
                }
            }
            pa[rarest] += restA;
            pb[rarest] += restB;
        } else {
            pa[k] = restA;
            pb[k] = restB;
            k++;
        }
        // Pooling moves counts between categories, so the sums stay na and nb.
        return homogeneity(java.util.Arrays.copyOf(pa, k), java.util.Arrays.copyOf(pb, k), na, nb);
    }
}
