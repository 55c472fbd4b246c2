package io.canaryflow.modelloader;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;

/**
 * A reference distribution as histogram bins whose edges are quantiles of a reference sample.
 *
 * <p>{@code edges} holds the {@code k - 1} interior cut points of {@code k} bins. Bin 0 is open on
 * the left, {@code (-inf, edges[0])}; bin {@code i} is {@code [edges[i-1], edges[i])}; the last bin
 * is open on the right, {@code [edges[k-2], +inf)}. Open edge bins make out-of-range mass count
 * instead of vanishing. With no edges there is one bin holding everything. {@code fractions} are
 * the reference sample's share per bin and sum to 1; {@code n} is the reference sample size.
 *
 * <p>A categorical feature (few distinct integral values, such as a flag or a count) has {@code
 * categories} instead of edges: bin {@code i} holds exactly {@code categories[i]}, and one last bin
 * holds every other value (reference fraction 0, so an unseen category shows as drift).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ReferenceBins(double[] edges, double[] fractions, long n, double[] categories) {

    /** Bins of a numeric quantity. */
    public ReferenceBins(double[] edges, double[] fractions, long n) {
        this(edges, fractions, n, null);
    }

    @JsonCreator
    public ReferenceBins(
            @JsonProperty("edges") double[] edges,
            @JsonProperty("fractions") double[] fractions,
            @JsonProperty("n") long n,
            @JsonProperty("categories") double[] categories) {
        if (categories != null) {
            edges = edges == null ? new double[0] : edges;
            if (edges.length > 0) {
                throw new IllegalArgumentException(
                        "reference bins have either 'edges' or 'categories', not both");
            }
            if (fractions == null || fractions.length != categories.length + 1) {
                throw new IllegalArgumentException(
                        String.format(
                                "reference bins: %d categories need %d fractions (the last for other values), got %s",
                                categories.length,
                                categories.length + 1,
                                fractions == null ? "none" : fractions.length));
            }
            for (int i = 1; i < categories.length; i++) {
                if (!(categories[i] > categories[i - 1])) {
                    throw new IllegalArgumentException(
                            "reference categories must be strictly increasing: "
                                    + Arrays.toString(categories));
                }
            }
        }
        if (edges == null || fractions == null) {
            throw new IllegalArgumentException("reference bins need 'edges' and 'fractions'");
        }
        if (categories == null && fractions.length != edges.length + 1) {
            throw new IllegalArgumentException(
                    String.format(
                            "reference bins: %d edges need %d fractions, got %d",
                            edges.length, edges.length + 1, fractions.length));
        }
        for (int i = 1; i < edges.length; i++) {
            if (!(edges[i] > edges[i - 1])) {
                throw new IllegalArgumentException(
                        "reference bin edges must be strictly increasing: "
                                + Arrays.toString(edges));
            }
        }
        this.edges = edges.clone();
        this.fractions = fractions.clone();
        this.n = n;
        this.categories = categories == null ? null : categories.clone();
    }

    /** Whether the bins are categories rather than ranges. */
    public boolean categorical() {
        return categories != null;
    }

    /** Number of bins, {@code edges.length + 1}. */
    public int bins() {
        return fractions.length;
    }

    /**
     * The bin holding {@code value}: the number of edges {@code <= value}. NaN has no bin and
     * returns -1; callers count it separately.
     */
    public int binOf(double value) {
        if (Double.isNaN(value)) {
            return -1;
        }
        if (categories != null) {
            int i = Arrays.binarySearch(categories, value);
            return i >= 0 ? i : categories.length;
        }
        int lo = 0;
        int hi = edges.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (edges[mid] <= value) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /**
     * Builds bins from a sample: edges at the {@code 1/k .. (k-1)/k} quantiles (nearest rank), ties
     * collapsed so edges stay strictly increasing, fractions counted from the sample itself. NaN
     * values are ignored. An empty sample gives a single bin with fraction 1 and {@code n = 0}.
     */
    public static ReferenceBins fromSample(double[] sample, int k) {
        if (k < 1) {
            throw new IllegalArgumentException("bin count must be at least 1, got " + k);
        }
        double[] sorted = Arrays.stream(sample).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (sorted.length == 0) {
            return new ReferenceBins(new double[0], new double[] {1.0}, 0);
        }
        double[] cuts = new double[k - 1];
        int m = 0;
        for (int q = 1; q < k; q++) {
            int rank = (int) Math.ceil((double) q * sorted.length / k);
            double edge = sorted[Math.min(sorted.length - 1, rank)];
            if (edge > sorted[0] && (m == 0 || edge > cuts[m - 1])) {
                cuts[m++] = edge;
            }
        }
        double[] edges = Arrays.copyOf(cuts, m);
        long[] counts = new long[m + 1];
        ReferenceBins shape = new ReferenceBins(edges, new double[m + 1], sorted.length);
        for (double v : sorted) {
            counts[shape.binOf(v)]++;
        }
        double[] fractions = new double[m + 1];
        for (int i = 0; i <= m; i++) {
            fractions[i] = (double) counts[i] / sorted.length;
        }
        return new ReferenceBins(edges, fractions, sorted.length);
    }

    /**
     * Categorical bins if the sample has at most {@code maxCategories} distinct values, all of them
     * integers (flags, counts, codes); otherwise {@link #fromSample(double[], int)}'s quantile
     * bins.
     */
    public static ReferenceBins fromSample(double[] sample, int k, int maxCategories) {
        double[] distinct =
                Arrays.stream(sample).filter(v -> !Double.isNaN(v)).sorted().distinct().toArray();
        boolean integral = Arrays.stream(distinct).allMatch(v -> v == Math.rint(v));
        if (distinct.length < 2 || distinct.length > maxCategories || !integral) {
            return fromSample(sample, k);
        }
        long[] counts = new long[distinct.length + 1];
        long n = 0;
        for (double v : sample) {
            if (!Double.isNaN(v)) {
                counts[Arrays.binarySearch(distinct, v)]++;
                n++;
            }
        }
        double[] fractions = new double[counts.length];
        for (int i = 0; i < counts.length; i++) {
            fractions[i] = (double) counts[i] / n;
        }
        return new ReferenceBins(new double[0], fractions, n, distinct);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ReferenceBins other
                && n == other.n
                && Arrays.equals(edges, other.edges)
                && Arrays.equals(fractions, other.fractions)
                && Arrays.equals(categories, other.categories);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(edges)
                + Arrays.hashCode(fractions)
                + 7 * Arrays.hashCode(categories)
                + Long.hashCode(n);
    }

    @Override
    public String toString() {
        return categories != null
                ? "ReferenceBins{categories=" + Arrays.toString(categories) + ", n=" + n + "}"
                : "ReferenceBins{edges=" + Arrays.toString(edges) + ", n=" + n + "}";
    }
}
