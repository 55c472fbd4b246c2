package io.canaryflow.modelloader;

import com.fasterxml.jackson.annotation.JsonCreator;
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
 */
public record ReferenceBins(double[] edges, double[] fractions, long n) {

    @JsonCreator
    public ReferenceBins(
            @JsonProperty("edges") double[] edges,
            @JsonProperty("fractions") double[] fractions,
            @JsonProperty("n") long n) {
        if (edges == null || fractions == null) {
            throw new IllegalArgumentException("reference bins need 'edges' and 'fractions'");
        }
        if (fractions.length != edges.length + 1) {
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

    @Override
    public boolean equals(Object o) {
        return o instanceof ReferenceBins other
                && n == other.n
                && Arrays.equals(edges, other.edges)
                && Arrays.equals(fractions, other.fractions);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(edges) + Arrays.hashCode(fractions) + Long.hashCode(n);
    }

    @Override
    public String toString() {
        return "ReferenceBins{edges=" + Arrays.toString(edges) + ", n=" + n + "}";
    }
}
