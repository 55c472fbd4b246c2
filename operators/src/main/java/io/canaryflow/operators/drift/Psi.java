package io.canaryflow.operators.drift;

/**
 * Population stability index of observed counts against reference fractions over the same bins:
 * {@code PSI = Σ_i (a_i − e_i) · ln(a_i / e_i)}, with {@code a_i} the observed and {@code e_i} the
 * reference fraction of bin {@code i}.
 *
 * <p>An empty bin on either side would make its term infinite. Such a fraction is replaced by
 * {@code epsilon} (reported in the result) rather than the term being dropped: a bin that holds
 * mass on one side only is exactly the drift PSI exists to show. Conventional reading: below 0.1
 * stable, 0.1 to 0.25 a moderate shift, above 0.25 a major shift.
 */
public final class Psi {
    /** Default replacement for an empty bin's fraction. */
    public static final double DEFAULT_EPSILON = 1e-4;

    /**
     * @param value the PSI, or NaN when there were no observations
     * @param observations total observed count
     * @param emptyBins bins whose observed or reference fraction was 0 and was replaced
     * @param epsilon the replacement used
     * @param terms each bin's contribution; they sum to {@code value}
     */
    public record Result(
            double value, long observations, int emptyBins, double epsilon, double[] terms) {}

    private Psi() {}

    /**
     * Computes PSI. With no observations (all counts 0) the value is NaN, {@code terms} all NaN:
     * there is no distribution to compare.
     *
     * @throws IllegalArgumentException if the arrays differ in length, a count is negative, or
     *     {@code epsilon} is not in (0, 1)
     */
    public static Result of(long[] observed, double[] referenceFractions, double epsilon) {
        if (observed.length != referenceFractions.length) {
            throw new IllegalArgumentException(
                    String.format(
                            "%d observed bins but %d reference bins",
                            observed.length, referenceFractions.length));
        }
        if (!(epsilon > 0 && epsilon < 1)) {
            throw new IllegalArgumentException("epsilon must be in (0, 1), got " + epsilon);
        }
        long n = 0;
        for (long c : observed) {
            if (c < 0) {
                throw new IllegalArgumentException("negative count " + c);
            }
            n += c;
        }
        double[] terms = new double[observed.length];
        if (n == 0) {
            java.util.Arrays.fill(terms, Double.NaN);
            return new Result(Double.NaN, 0, 0, epsilon, terms);
        }
        double psi = 0;
        int empty = 0;
        for (int i = 0; i < observed.length; i++) {
            double a = (double) observed[i] / n;
            double e = referenceFractions[i];
            if (a == 0 || e == 0) {
                empty++;
                a = a == 0 ? epsilon : a;
                e = e == 0 ? epsilon : e;
            }
            terms[i] = (a - e) * Math.log(a / e);
            psi += terms[i];
        }
        return new Result(psi, n, empty, epsilon, terms);
    }
}
