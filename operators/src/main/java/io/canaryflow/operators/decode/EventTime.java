package io.canaryflow.operators.decode;

import java.time.Duration;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.util.clock.RelativeClock;

/**
 * Event time of decoded source records, for a source's {@code WatermarkStrategy}: given to {@code
 * env.fromSource}, it runs per Kafka partition inside the source, so a task reading several
 * partitions at different positions (a backlog, catch-up after a restore, fewer tasks than
 * partitions) never makes an in-order event late.
 *
 * <p>A record's timestamp is its decoded {@code ts}. The watermark of a partition is the largest
 * {@code ts} of its valid records minus {@code maxOutOfOrderness} minus 1 ms: an event at most
 * {@code maxOutOfOrderness} older than the newest before it in its partition is never late. Dead
 * letters carry no event time and never move the watermark (one bad record with a wild {@code ts}
 * must not make every later event late). A partition without a valid record for {@code idleTimeout}
 * is idle and holds no time back until its next valid record.
 */
public final class EventTime {
    private EventTime() {}

    public static WatermarkStrategy<Decoded> perPartition(
            Duration maxOutOfOrderness, Duration idleTimeout) {
        return strategy(maxOutOfOrderness, idleTimeout, false);
    }

    /**
     * As {@link #perPartition}, but a partition that has had no valid record yet is idle (it holds
     * no time back, nor does a source task without partitions), and one that has had one goes idle
     * only after {@code idleTimeout} without another (zero: never). For the labels: their time
     * waits for every partition that carries labels, however long it pauses.
     */
    public static WatermarkStrategy<Decoded> perPartitionHeld(
            Duration maxOutOfOrderness, Duration idleTimeout) {
        return strategy(maxOutOfOrderness, idleTimeout, true);
    }

    private static WatermarkStrategy<Decoded> strategy(
            Duration maxOutOfOrderness, Duration idleTimeout, boolean idleUntilFirst) {
        long bound = maxOutOfOrderness.toMillis();
        long idleMillis = idleTimeout.toMillis();
        return WatermarkStrategy.<Decoded>forGenerator(
                        ctx ->
                                new ValidRecordsOnly(
                                        bound,
                                        idleMillis,
                                        idleUntilFirst,
                                        ctx.getInputActivityClock()))
                .withTimestampAssigner(
                        (record, kafkaTimestamp) -> record.valid() ? record.ts() : kafkaTimestamp);
    }

    /**
     * Bounded out-of-orderness over valid records only, idle after {@code idleMillis} without a
     * valid record (0: never idle), and with {@code idleUntilFirst} also before its first. Idleness
     * counts only valid records, so a partition that receives nothing but bad records does not hold
     * time back either. The clock is the source's input-activity clock, which stops while the
     * source is back-pressured: a partition is not idle because the job is slow.
     */
    static final class ValidRecordsOnly implements WatermarkGenerator<Decoded> {
        private final long bound;
        private final long idleMillis;
        private final boolean idleUntilFirst;
        private final RelativeClock clock;
        private long maxTimestamp;
        private long lastValidAt;
        private boolean seen;

        ValidRecordsOnly(long bound, long idleMillis, boolean idleUntilFirst, RelativeClock clock) {
            this.idleUntilFirst = idleUntilFirst;
            this.bound = bound;
            this.idleMillis = idleMillis;
            this.clock = clock;
            this.maxTimestamp = Long.MIN_VALUE + bound + 1;
            this.lastValidAt = clock.relativeTimeMillis();
        }

        @Override
        public void onEvent(Decoded record, long timestamp, WatermarkOutput output) {
            if (record.valid()) {
                seen = true;
                maxTimestamp = Math.max(maxTimestamp, record.ts());
                lastValidAt = clock.relativeTimeMillis();
            }
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            if ((idleUntilFirst && !seen)
                    || (idleMillis > 0 && clock.relativeTimeMillis() - lastValidAt >= idleMillis)) {
                output.markIdle();
            } else {
                output.emitWatermark(new Watermark(maxTimestamp - bound - 1));
            }
        }
    }
}
