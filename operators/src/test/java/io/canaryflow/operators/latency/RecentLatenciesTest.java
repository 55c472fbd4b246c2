package io.canaryflow.operators.latency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.flink.metrics.HistogramStatistics;
import org.junit.jupiter.api.Test;

class RecentLatenciesTest {
    @Test
    void shouldGiveNearestRankQuantilesAndMomentsOfTheValuesRecorded() {
        List<Long> values = new ArrayList<>();
        for (long v = 1; v <= 1000; v++) {
            values.add(v);
        }
        Collections.shuffle(values, new java.util.Random(3));
        RecentLatencies h = new RecentLatencies(10_000);
        values.forEach(h::update);

        HistogramStatistics s = h.getStatistics();
        assertThat(h.getCount()).isEqualTo(1000);
        assertThat(s.size()).isEqualTo(1000);
        // Nearest rank of 1..n: the q-quantile is ceil(q n).
        assertThat(s.getQuantile(0.5)).isEqualTo(500);
        assertThat(s.getQuantile(0.99)).isEqualTo(990);
        assertThat(s.getQuantile(0.999)).isEqualTo(999);
        assertThat(s.getQuantile(1)).isEqualTo(1000);
        assertThat(s.getMin()).isEqualTo(1);
        assertThat(s.getMax()).isEqualTo(1000);
        assertThat(s.getMean()).isEqualTo(500.5);
        // Sample variance of 1..n is n (n + 1) / 12.
        assertThat(s.getStdDev()).isCloseTo(Math.sqrt(1000 * 1001 / 12.0), within(1e-9));
    }

    @Test
    void shouldKeepOnlyTheLastCapacityValuesAndClampOutOfRangeOnes() {
        RecentLatencies h = new RecentLatencies(100);
        for (long v = 1; v <= 250; v++) {
            h.update(v);
        }
        HistogramStatistics s = h.getStatistics();
        assertThat(h.getCount()).isEqualTo(250);
        assertThat(s.size()).isEqualTo(100);
        assertThat(s.getMin()).isEqualTo(151);
        assertThat(s.getMax()).isEqualTo(250);

        RecentLatencies clamped = new RecentLatencies(2);
        clamped.update(-5);
        clamped.update(Long.MAX_VALUE);
        assertThat(clamped.getStatistics().getValues()).containsExactly(0, Integer.MAX_VALUE);
        assertThat(new RecentLatencies(4).getStatistics().getQuantile(0.99)).isZero();
    }

    @Test
    void shouldOnlyShowRecordedValuesToAReaderOnAnotherThread() throws Exception {
        RecentLatencies h = new RecentLatencies(1_000);
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer =
                new Thread(
                        () -> {
                            long i = 0;
                            while (!stop.get()) {
                                h.update(1 + (i++ % 500));
                            }
                        });
        writer.start();
        try {
            long previous = 0;
            for (int r = 0; r < 2_000; r++) {
                long count = h.getCount();
                HistogramStatistics s = h.getStatistics();
                assertThat(count).isGreaterThanOrEqualTo(previous);
                assertThat(s.size()).isLessThanOrEqualTo(1_000);
                if (s.size() > 0) {
                    assertThat(s.getMin()).isGreaterThanOrEqualTo(1);
                    assertThat(s.getMax()).isLessThanOrEqualTo(500);
                }
                previous = count;
            }
            // on a loaded machine the writer may not have run yet: give it time to write once
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (h.getCount() == 0 && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
        } finally {
            stop.set(true);
            writer.join();
        }
        assertThat(h.getCount()).isPositive();
    }
}
