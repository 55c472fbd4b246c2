package io.canaryflow.operators.latency;

import java.io.Serializable;

/**
 * A log-linear histogram of non-negative latencies (microseconds), for percentiles with a known
 * accuracy at a fixed, small cost per value (no sorting, no sample kept).
 *
 * <p>Values below 256 have a bucket each. Above, every power of two is split into 128 buckets, so a
 * bucket is at most 1/128 of its lower bound wide. {@link #percentile} returns the midpoint of the
 * bucket holding the nearest-rank percentile, hence <b>within 0.4 % (1/256) of the exact
 * nearest-rank value, and exact below 256 µs</b>. Values above 2^40 µs (about 12.7 days) are
 * clamped to it; negative values are counted as 0.
 *
 * <p>Not thread-safe for writers; merge histograms of several writers with {@link #merge}.
 */
public final class LatencyHistogram implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final int SUB_BITS = 7;
    private static final int SUB = 1 << SUB_BITS; // 128 buckets per power of two
    private static final int LINEAR = 2 * SUB; // 0..255 exactly
    private static final int MAX_BITS = 40;
    private static final long MAX = (1L << MAX_BITS) - 1;
    private static final int BUCKETS = LINEAR + (MAX_BITS - SUB_BITS - 1) * SUB;

    private final long[] counts = new long[BUCKETS];
    private long n;
    private long sum;
    private long min = Long.MAX_VALUE;
    private long max = Long.MIN_VALUE;

    /** Counts one value. */
    public void add(long micros) {
        long v = Math.min(MAX, Math.max(0, micros));
        counts[bucketOf(v)]++;
        n++;
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
    }

    static int bucketOf(long v) {
        if (v < LINEAR) {
            return (int) v;
        }
        int msb = 63 - Long.numberOfLeadingZeros(v); // >= 8
        int shift = msb - SUB_BITS; // >= 1
        int sub = (int) (v >>> shift); // in [128, 255]
        return LINEAR + (shift - 1) * SUB + (sub - SUB);
    }

    /** Smallest value of bucket {@code index}. */
    static long lowerBound(int index) {
        if (index < LINEAR) {
            return index;
        }
        int shift = (index - LINEAR) / SUB + 1;
        int sub = (index - LINEAR) % SUB + SUB;
        return (long) sub << shift;
    }

    /** Number of values bucket {@code index} holds. */
    static long width(int index) {
        return index < LINEAR ? 1 : 1L << ((index - LINEAR) / SUB + 1);
    }

    /** Adds {@code other}'s values to this histogram. */
    public void merge(LatencyHistogram other) {
        for (int i = 0; i < BUCKETS; i++) {
            counts[i] += other.counts[i];
        }
        n += other.n;
        sum += other.sum;
        min = Math.min(min, other.min);
        max = Math.max(max, other.max);
    }

    /** Non-empty buckets as {@code [indices, counts]} plus sum, min, max: a compact wire form. */
    public Sparse toSparse() {
        int used = 0;
        for (long c : counts) {
            if (c != 0) {
                used++;
            }
        }
        int[] indices = new int[used];
        long[] values = new long[used];
        int k = 0;
        for (int i = 0; i < BUCKETS; i++) {
            if (counts[i] != 0) {
                indices[k] = i;
                values[k++] = counts[i];
            }
        }
        return new Sparse(indices, values, sum, n == 0 ? -1 : min, n == 0 ? -1 : max);
    }

    /** The histogram a {@link #toSparse} form describes. */
    public static LatencyHistogram fromSparse(Sparse sparse) {
        LatencyHistogram h = new LatencyHistogram();
        for (int k = 0; k < sparse.indices().length; k++) {
            h.counts[sparse.indices()[k]] = sparse.counts()[k];
            h.n += sparse.counts()[k];
        }
        h.sum = sparse.sum();
        if (h.n > 0) {
            h.min = sparse.min();
            h.max = sparse.max();
        }
        return h;
    }

    /** Compact form of a histogram; min and max are -1 when it is empty. */
    public record Sparse(int[] indices, long[] counts, long sum, long min, long max)
            implements Serializable {}

    public long count() {
        return n;
    }

    /** Mean of the (clamped) values; NaN when empty. */
    public double mean() {
        return n == 0 ? Double.NaN : (double) sum / n;
    }

    /** Smallest value; -1 when empty. */
    public long min() {
        return n == 0 ? -1 : min;
    }

    /** Largest value; -1 when empty. */
    public long max() {
        return n == 0 ? -1 : max;
    }

    /**
     * Values in buckets lying wholly above {@code cut}: every value above {@code cut · (1 + 1/128)}
     * (or above {@code cut} itself below 256 µs, where buckets are exact) is counted, and none at
     * or below {@code cut}.
     */
    public long countAbove(double cut) {
        long above = 0;
        for (int i = BUCKETS - 1; i >= 0 && lowerBound(i) > cut; i--) {
            above += counts[i];
        }
        return above;
    }

    /**
     * The nearest-rank {@code q}-quantile (the value at rank {@code ceil(q·n)}), within 1/256 of it
     * relative, exact below 256; NaN when empty.
     *
     * @param q in (0, 1]
     */
    public double percentile(double q) {
        if (!(q > 0 && q <= 1)) {
            throw new IllegalArgumentException("quantile must be in (0, 1], got " + q);
        }
        if (n == 0) {
            return Double.NaN;
        }
        long rank = (long) Math.ceil(q * n);
        long seen = 0;
        for (int i = 0; i < BUCKETS; i++) {
            seen += counts[i];
            if (seen >= rank) {
                long lo = lowerBound(i);
                long w = width(i);
                // Midpoint of the bucket, never outside the values actually seen.
                double mid = w == 1 ? lo : lo + (w - 1) / 2.0;
                return Math.max(min, Math.min(max, mid));
            }
        }
        return max;
    }
}
