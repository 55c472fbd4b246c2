package io.canaryflow.operators.latency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LatencyHistogramTest {
    /** Exact nearest-rank quantile of a sorted sample, the reference. */
    static long exact(long[] sorted, double q) {
        return sorted[(int) Math.ceil(q * sorted.length) - 1];
    }

    @Test
    void shouldStayWithinTheDocumentedRelativeErrorOfExactPercentiles() {
        Random random = new Random(11);
        for (int trial = 0; trial < 20; trial++) {
            int n = 1 + random.nextInt(50_000);
            long[] values = new long[n];
            LatencyHistogram h = new LatencyHistogram();
            for (int i = 0; i < n; i++) {
                // Log-normal around 2 ms with a heavy tail, as scoring latencies are.
                values[i] = (long) Math.exp(7.6 + 1.2 * random.nextGaussian());
                h.add(values[i]);
            }
            Arrays.sort(values);
            for (double q : new double[] {0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
                long truth = exact(values, q);
                assertThat(h.percentile(q))
                        .as("q=%s n=%d", q, n)
                        .isBetween(truth - truth / 256.0 - 0.5, truth + truth / 256.0 + 0.5);
            }
            assertThat(h.count()).isEqualTo(n);
            assertThat(h.min()).isEqualTo(values[0]);
            assertThat(h.max()).isEqualTo(values[n - 1]);
            assertThat(h.mean()).isEqualTo(Arrays.stream(values).average().orElseThrow());
        }
    }

    @Test
    void shouldBeExactBelow256AndMapBucketsWithoutGapsOrOverlaps() {
        LatencyHistogram h = new LatencyHistogram();
        for (long v = 1; v <= 200; v++) {
            h.add(v);
        }
        assertThat(h.percentile(0.5)).isEqualTo(100);
        assertThat(h.percentile(0.99)).isEqualTo(198);
        // Consecutive buckets tile the value range: each starts where the previous ends.
        for (int i = 1; i < 4000; i++) {
            assertThat(LatencyHistogram.lowerBound(i))
                    .isEqualTo(LatencyHistogram.lowerBound(i - 1) + LatencyHistogram.width(i - 1));
            assertThat(LatencyHistogram.bucketOf(LatencyHistogram.lowerBound(i))).isEqualTo(i);
        }
    }

    @Test
    void shouldMergeAsIfAllValuesWentIntoOneAndReportEmptyAsNaN() {
        LatencyHistogram a = new LatencyHistogram();
        LatencyHistogram b = new LatencyHistogram();
        LatencyHistogram all = new LatencyHistogram();
        Random random = new Random(2);
        for (int i = 0; i < 10_000; i++) {
            long v = random.nextInt(1_000_000);
            (i % 3 == 0 ? a : b).add(v);
            all.add(v);
        }
        a.merge(b);
        for (double q : new double[] {0.5, 0.99}) {
            assertThat(a.percentile(q)).isEqualTo(all.percentile(q));
        }
        assertThat(new LatencyHistogram().percentile(0.5)).isNaN();
        assertThat(new LatencyHistogram().min()).isEqualTo(-1);
        assertThatThrownBy(() -> all.percentile(0)).hasMessageContaining("(0, 1]");
    }

    @Test
    void shouldCountValuesAboveACutWithinOneBucketOfTheExactCount() {
        java.util.Random random = new java.util.Random(11);
        LatencyHistogram h = new LatencyHistogram();
        long[] values = new long[20_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (long) Math.exp(4 + 4 * random.nextDouble()); // 55 us .. 160 ms
            h.add(values[i]);
        }
        for (double cut : new double[] {100, 255, 1_000, 12_345.6, 90_000}) {
            long above = java.util.Arrays.stream(values).filter(v -> v > cut).count();
            long wellAbove =
                    java.util.Arrays.stream(values).filter(v -> v > cut * (1 + 1.0 / 128)).count();
            assertThat(h.countAbove(cut)).as("cut %s", cut).isBetween(wellAbove, above);
        }
        assertThat(h.countAbove(1e12)).isZero();
        assertThat(h.countAbove(-1)).isEqualTo(values.length);
    }
}
