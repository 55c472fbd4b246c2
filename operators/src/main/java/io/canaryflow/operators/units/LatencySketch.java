package io.canaryflow.operators.units;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Per-unit latency histograms of one arm in one window, summarised like {@link UnitSketch}: a
 * Count-Sketch of one row of {@link #BUCKETS} buckets, each a coarse histogram of the latencies of
 * the units hashed to it, times each unit's random sign. The latency guardrail's cut (a ratio times
 * the control's p99) is known only when the judge has both arms of a window, so the monitor cannot
 * count each unit's slow scorings itself; from this sketch the judge reads, for any cut, every
 * bucket's signed count of scorings at or above it ({@link #tail}), and so the unit-level variance
 * of the share of slow scorings: Σ_b (t_b − p·a_b)² has expectation Σ_u (T_u − p·n_u)² for T_u a
 * unit's slow scorings and n_u all of them (see {@link UnitTail}).
 *
 * <p>Bins: {@value #PER_OCTAVE} per power of two of the latency in microseconds (a bin 14–25 % of
 * its lower bound wide), from 20 µs up to 2^36 µs; bin 0 holds [0, 20 µs), the last bin all above
 * 2^36 µs (19 hours). The judge reads the sketch at bin bounds at or below its cuts ({@link
 * #floorBound}), where at least as many scorings are slow as above the cut itself.
 *
 * <p>Linear, like {@link UnitSketch}: a window's sketch is the sum of its tasks' sketches, in any
 * order. Its wire and state form holds the non-zero cells alone (at most one per unit and bin), so
 * a window of few scorings carries little.
 *
 * @param cells the non-zero cells, {@code bucket · BINS + bin}, ascending
 * @param counts their signed counts
 */
public record LatencySketch(int[] cells, long[] counts) implements Serializable {
    public static final int BUCKETS = 128;
    static final int PER_OCTAVE = 4;
    static final int BINS = 128;
    private static final int FIRST_OCTAVE = 4; // 16 µs

    public LatencySketch {
        if (cells == null || counts == null || cells.length != counts.length) {
            throw new IllegalArgumentException("a latency sketch needs as many cells as counts");
        }
    }

    /** An empty sketch. */
    public static LatencySketch empty() {
        return new LatencySketch(new int[0], new long[0]);
    }

    /** The bin of a latency. */
    static int bin(long micros) {
        if (micros < 1L << FIRST_OCTAVE) {
            return 0;
        }
        int msb = 63 - Long.numberOfLeadingZeros(micros);
        int quarter = (int) (micros >>> (msb - 2)) & (PER_OCTAVE - 1);
        return Math.min(BINS - 1, (msb - FIRST_OCTAVE) * PER_OCTAVE + quarter);
    }

    /** The smallest latency of a bin (0 for bin 0). */
    public static long lowerBound(int bin) {
        if (bin <= 0) {
            return 0;
        }
        int msb = FIRST_OCTAVE + bin / PER_OCTAVE;
        return (long) (PER_OCTAVE + bin % PER_OCTAVE) << (msb - 2);
    }

    /** The largest bin bound at or below {@code cut} (bin 1 when the cut lies below it). */
    public static int floorBound(double cut) {
        int b = 1;
        while (b + 1 < BINS && lowerBound(b + 1) <= cut) {
            b++;
        }
        return b;
    }

    /** A unit's bucket and sign, from its {@link UnitSketch#hash}, independent of that sketch's. */
    private static int signedBucket(long unitHash) {
        long h = unitHash + 0x3c6ef372fe94f82aL; // 2 × the golden ratio: not UnitSketch's rows
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        h ^= h >>> 31;
        int bucket = (int) (h & (BUCKETS - 1));
        return (h & BUCKETS) == 0 ? bucket + 1 : -(bucket + 1);
    }

    /**
     * Counts latencies as they come (dense, one {@code int} per cell: 64 KiB, allocated at the
     * first latency); {@link #build} gives the sparse sketch.
     */
    public static final class Builder {
        private int[] cells;

        public void add(long unitHash, long micros) {
            if (cells == null) {
                cells = new int[BUCKETS * BINS];
            }
            int signed = signedBucket(unitHash);
            int at = (Math.abs(signed) - 1) * BINS + bin(Math.max(0, micros));
            cells[at] += signed > 0 ? 1 : -1;
        }

        public LatencySketch build() {
            if (cells == null) {
                return empty();
            }
            int n = 0;
            for (int c : cells) {
                if (c != 0) {
                    n++;
                }
            }
            int[] at = new int[n];
            long[] count = new long[n];
            for (int i = 0, k = 0; i < cells.length; i++) {
                if (cells[i] != 0) {
                    at[k] = i;
                    count[k++] = cells[i];
                }
            }
            return new LatencySketch(at, count);
        }
    }

    /** The sketch of both sets of latencies. */
    public LatencySketch plus(LatencySketch o) {
        int[] at = new int[cells.length + o.cells.length];
        long[] count = new long[at.length];
        int i = 0;
        int j = 0;
        int k = 0;
        while (i < cells.length || j < o.cells.length) {
            int next =
                    j >= o.cells.length || (i < cells.length && cells[i] <= o.cells[j])
                            ? cells[i]
                            : o.cells[j];
            long c = 0;
            if (i < cells.length && cells[i] == next) {
                c += counts[i++];
            }
            if (j < o.cells.length && o.cells[j] == next) {
                c += o.counts[j++];
            }
            if (c != 0) {
                at[k] = next;
                count[k++] = c;
            }
        }
        return new LatencySketch(Arrays.copyOf(at, k), Arrays.copyOf(count, k));
    }

    /** {@code a + b} where either may be null (none counted). */
    public static LatencySketch sum(LatencySketch a, LatencySketch b) {
        return a == null ? b : b == null ? a : a.plus(b);
    }

    /**
     * Per bucket, the signed count of scorings at or above {@link #lowerBound}{@code (bin)} ({@code
     * [0, BUCKETS)}) and of all scorings ({@code [BUCKETS, 2·BUCKETS)}).
     */
    public double[] tail(int bin) {
        double[] out = new double[2 * BUCKETS];
        for (int i = 0; i < cells.length; i++) {
            int bucket = cells[i] / BINS;
            out[BUCKETS + bucket] += counts[i];
            if (cells[i] % BINS >= bin) {
                out[bucket] += counts[i];
            }
        }
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LatencySketch s
                && Arrays.equals(cells, s.cells)
                && Arrays.equals(counts, s.counts);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(cells) + Arrays.hashCode(counts);
    }

    @Override
    public String toString() {
        return "LatencySketch[" + cells.length + " cells]";
    }
}
