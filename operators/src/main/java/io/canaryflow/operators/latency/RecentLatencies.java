package io.canaryflow.operators.latency;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.HistogramStatistics;

/**
 * A Flink metric histogram of the most recent latencies (microseconds), cheap enough for a
 * per-record hot path: its one writer, the task thread, records a value with two plain stores and a
 * release store, where Flink's {@code DescriptiveStatisticsHistogram} enters a monitor for every
 * value. Metric reporters, on other threads, read snapshots.
 *
 * <p>Keeps the last {@code capacity} values in a ring. A snapshot taken while the writer runs may
 * hold values from a few updates apart, but every value in it was recorded: values are stored as
 * {@code int}s, which the Java memory model never tears. Values are clamped to {@code [0,
 * Integer.MAX_VALUE]} (about 36 minutes).
 *
 * <p>Quantiles are nearest-rank, as in the monitoring's {@link LatencyHistogram}.
 */
public final class RecentLatencies implements Histogram {
    private static final VarHandle COUNT;

    static {
        try {
            COUNT =
                    MethodHandles.lookup()
                            .findVarHandle(RecentLatencies.class, "count", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int[] ring;
    private int next;

    /** Values recorded so far; written by the writer with release stores. */
    @SuppressWarnings("unused")
    private long count;

    public RecentLatencies(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        ring = new int[capacity];
    }

    /** Records one value. Only one thread may call this. */
    @Override
    public void update(long micros) {
        ring[next] = (int) Math.min(Integer.MAX_VALUE, Math.max(0, micros));
        if (++next == ring.length) {
            next = 0;
        }
        COUNT.setRelease(this, (long) COUNT.get(this) + 1);
    }

    @Override
    public long getCount() {
        return (long) COUNT.getAcquire(this);
    }

    /** A snapshot of the last {@code capacity} values (fewer until that many were recorded). */
    @Override
    public HistogramStatistics getStatistics() {
        long recorded = getCount();
        int size = (int) Math.min(recorded, ring.length);
        int[] copy = Arrays.copyOf(ring, size);
        long[] values = new long[size];
        for (int i = 0; i < size; i++) {
            values[i] = copy[i];
        }
        Arrays.sort(values);
        return new Snapshot(values);
    }

    /** Statistics of sorted values. */
    private static final class Snapshot extends HistogramStatistics {
        private final long[] sorted;

        Snapshot(long[] sorted) {
            this.sorted = sorted;
        }

        /**
         * The nearest-rank quantile: the smallest value with at least {@code q} of all at or below.
         */
        @Override
        public double getQuantile(double q) {
            if (sorted.length == 0) {
                return 0;
            }
            int rank = (int) Math.ceil(Math.max(0, Math.min(1, q)) * sorted.length);
            return sorted[Math.max(0, rank - 1)];
        }

        @Override
        public long[] getValues() {
            return sorted.clone();
        }

        @Override
        public int size() {
            return sorted.length;
        }

        @Override
        public double getMean() {
            if (sorted.length == 0) {
                return 0;
            }
            double sum = 0;
            for (long v : sorted) {
                sum += v;
            }
            return sum / sorted.length;
        }

        /** The sample standard deviation (divisor n - 1); 0 for fewer than two values. */
        @Override
        public double getStdDev() {
            if (sorted.length < 2) {
                return 0;
            }
            double mean = getMean();
            double squares = 0;
            for (long v : sorted) {
                squares += (v - mean) * (v - mean);
            }
            return Math.sqrt(squares / (sorted.length - 1));
        }

        @Override
        public long getMax() {
            return sorted.length == 0 ? 0 : sorted[sorted.length - 1];
        }

        @Override
        public long getMin() {
            return sorted.length == 0 ? 0 : sorted[0];
        }
    }
}
