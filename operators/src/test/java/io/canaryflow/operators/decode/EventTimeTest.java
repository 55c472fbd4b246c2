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
        EventTime.ValidRecordsOnly g = new EventTime.ValidRecordsOnly(1_000, 30_000, false, clock);
        g.onEvent(valid(10_000), 10_000, output);
        g.onPeriodicEmit(output);
        now = 30_000;
        g.onPeriodicEmit(output);
        g.onEvent(valid(11_000), 11_000, output);
        g.onPeriodicEmit(output);
        assertThat(said).containsExactly("8999", "idle", "9999");
    }

    /**
     * Held: idle only until its first record (a partition without labels yet, or a source task
     * without partitions, holds no time), then never idle however long it is silent.
     */
    @Test
    void shouldHoldTimeOnceItHasHadARecordHoweverLongItIsSilent() {
        EventTime.ValidRecordsOnly g = new EventTime.ValidRecordsOnly(1_000, 0, true, clock);
        g.onPeriodicEmit(output);
        now = 3_600_000;
        g.onPeriodicEmit(output);
        g.onEvent(valid(10_000), 10_000, output);
        g.onPeriodicEmit(output);
        now = 100 * 3_600_000L;
        g.onPeriodicEmit(output);
        assertThat(said).containsExactly("idle", "idle", "8999", "8999");
    }
}
