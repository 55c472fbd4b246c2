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
 *
 * <p>Flink (2.x) creates a partition's generator when the partition is assigned to the task, at a
 * start and on a restore, before its first record: a partition not read yet holds the task's time
 * where it was until its first record, or for {@code idleTimeout}, so the partition read first does
 * not set the task's time alone. The task's own (main) generator, which sees no record, holds the
 * time of a task without partitions for {@code idleTimeout} after its start.
 *
 * <p>A partition that resumes after being idle holds its time where it was for another {@code
 * idleTimeout} before it moves it on: after a pause of the whole topic, the partition read first
 * would otherwise move the job's time past the events of every partition still marked idle, whose
 * tasks have not read their first records yet, and those events would be late.
 */
public final class EventTime {
    private EventTime() {}

    public static WatermarkStrategy<Decoded> perPartition(
            Duration maxOutOfOrderness, Duration idleTimeout) {
        long bound = maxOutOfOrderness.toMillis();
        long idleMillis = idleTimeout.toMillis();
        return WatermarkStrategy.<Decoded>forGenerator(
                        ctx -> new ValidRecordsOnly(bound, idleMillis, ctx.getInputActivityClock()))
                .withTimestampAssigner(
                        (record, kafkaTimestamp) -> record.valid() ? record.ts() : kafkaTimestamp);
    }

    /**
     * Bounded out-of-orderness over valid records only, idle after {@code idleMillis} without a
     * valid record (0: never idle), held for {@code idleMillis} on resuming (see {@link
     * EventTime}). Idleness counts only valid records, so a partition that receives nothing but bad
     * records does not hold time back either; it goes idle only once it has emitted the watermark
     * of its last record. The clock is the source's input-activity clock, which stops while the
     * source is back-pressured: a partition is not idle because the job is slow.
     */
    static final class ValidRecordsOnly implements WatermarkGenerator<Decoded> {
        private final long bound;
        private final long idleMillis;
        private final RelativeClock clock;
        private long maxTimestamp;
        private long lastValidAt;

        /** The last watermark emitted: the one a resuming partition holds. */
        private long emitted = Long.MIN_VALUE;

        /** Whether {@link #emitted} includes the last valid record. */
        private boolean current = true;

        private boolean idle;

        /** Whether a valid record has come: without a timeout, only such a partition holds time. */
        private boolean seen;

        /** When the partition resumed from idleness and began holding; -1 when not holding. */
        private long resumedAt = -1;

        ValidRecordsOnly(long bound, long idleMillis, RelativeClock clock) {
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
                current = false;
                if (idle) {
                    idle = false;
                    resumedAt = lastValidAt;
                }
            }
        }

        @Override
        public void onPeriodicEmit(WatermarkOutput output) {
            long now = clock.relativeTimeMillis();
            if (resumedAt >= 0 && now - resumedAt < idleMillis) {
                output.emitWatermark(new Watermark(emitted)); // resuming: time held
                return;
            }
            resumedAt = -1;
            if (idleMillis == 0 && !seen) {
                // without a timeout, a partition (or a task's own generator, through which no
                // record passes: a task without partitions) holds time only once it has had a
                // record
                idle = true;
                output.markIdle();
                return;
            }
            if (idleMillis > 0 && current && now - lastValidAt >= idleMillis) {
                idle = true;
                output.markIdle();
                return;
            }
            emitted = Math.max(emitted, maxTimestamp - bound - 1);
            current = true;
            output.emitWatermark(new Watermark(emitted));
        }
    }
}
