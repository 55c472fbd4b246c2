package io.canaryflow.operators.decode;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.junit.jupiter.api.Test;

/** The per-partition watermark generators: idleness after a timeout, or held once active. */
class EventTimeTest {
    long now;

    final org.apache.flink.util.clock.RelativeClock clock =
            new org.apache.flink.util.clock.RelativeClock() {
                @Override
                public long relativeTimeMillis() {
                    return now;
                }

                @Override
                public long relativeTimeNanos() {
                    return now * 1_000_000;
                }
            };

    /** What the generator told its output at each periodic emit: a watermark or "idle". */
    final List<String> said = new ArrayList<>();

    final WatermarkOutput output =
            new WatermarkOutput() {
                @Override
                public void emitWatermark(Watermark watermark) {
                    said.add(String.valueOf(watermark.getTimestamp()));
                }

                @Override
                public void markIdle() {
                    said.add("idle");
                }

                @Override
                public void markActive() {}
            };

    static Decoded valid(long ts) {
        return Decoded.of(new io.canaryflow.operators.records.Label("e", 1, ts));
    }

    @Test
    void shouldGoIdleAfterTheTimeoutAndBeActiveAgainWithTheNextRecord() {
        EventTime.ValidRecordsOnly g = new EventTime.ValidRecordsOnly(1_000, 30_000, clock);
        g.onEvent(valid(10_000), 10_000, output);
        g.onPeriodicEmit(output);
        now = 30_000;
        g.onPeriodicEmit(output);
        g.onEvent(valid(11_000), 11_000, output);
        now = 60_000;
        g.onPeriodicEmit(output);
        assertThat(said).containsExactly("8999", "idle", "9999");
    }

    /**
     * After idleness, a partition holds its time where it was for one more timeout: a topic whose
     * partitions all paused resumes without the partition read first moving time past the others,
     * whose tasks have not read yet (their events would be late).
     */
    @Test
    void shouldHoldItsTimeForATimeoutWhenItResumes() {
        EventTime.ValidRecordsOnly g = new EventTime.ValidRecordsOnly(1_000, 30_000, clock);
        g.onEvent(valid(10_000), 10_000, output);
        g.onPeriodicEmit(output);
        now = 40_000;
        g.onPeriodicEmit(output); // idle
        g.onEvent(valid(70_000), 70_000, output);
        g.onPeriodicEmit(output);
        now = 69_999;
        g.onPeriodicEmit(output);
        now = 70_000;
        g.onPeriodicEmit(output);
        assertThat(said).containsExactly("8999", "idle", "8999", "8999", "68999");
    }

    /**
     * Started on an empty topic: idle after the timeout, and held at the start of time when its
     * first records come; a partition goes idle only once it has emitted its last record's time, so
     * a topic of single records far apart still moves time.
     */
    @Test
    void shouldHoldFromTheStartAndEmitTheLastRecordsTimeBeforeGoingIdle() {
        EventTime.ValidRecordsOnly g = new EventTime.ValidRecordsOnly(1_000, 30_000, clock);
        g.onPeriodicEmit(output);
        now = 30_000;
        g.onPeriodicEmit(output);
        g.onEvent(valid(5_000), 5_000, output);
        now = 90_000; // silent since the record, longer than the timeout
        g.onPeriodicEmit(output);
        g.onPeriodicEmit(output);
        assertThat(said).containsExactly(String.valueOf(Long.MIN_VALUE), "idle", "3999", "idle");
    }

    /**
     * With a zero timeout, idle only until its first record (a task without partitions holds no
     * time for ever), then never idle however long it is silent.
     */
    @Test
    void shouldNeverGoIdleWithoutATimeoutOnceItHasHadARecord() {
        EventTime.ValidRecordsOnly g = new EventTime.ValidRecordsOnly(1_000, 0, clock);
        g.onPeriodicEmit(output);
        g.onEvent(valid(10_000), 10_000, output);
        g.onPeriodicEmit(output);
        now = 100 * 3_600_000L;
        g.onPeriodicEmit(output);
        assertThat(said).containsExactly("idle", "8999", "8999");
    }
}
