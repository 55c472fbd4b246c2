package io.canaryflow.testing;

import io.canaryflow.jobs.Pipeline;
import io.canaryflow.operators.decode.Decoded;
import io.canaryflow.operators.decode.SourceDecoder;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job's endpoints with the features slowed down (so that a bounded job runs long enough to be
 * failed, stopped and restored mid-stream) and completed checkpoints counted. The throttle is a
 * stateless map with a fixed uid, present (at any speed) in every run that restores another's
 * savepoint.
 */
public final class ThrottledEndpoints extends DelegatingEndpoints {
    /** Checkpoints completed in this JVM, as seen by the throttle's first subtask. */
    public static final AtomicLong CHECKPOINTS = new AtomicLong();

    private final long sleepMicrosPerRecord;

    public ThrottledEndpoints(Pipeline.Endpoints delegate, long sleepMicrosPerRecord) {
        super(delegate);
        this.sleepMicrosPerRecord = sleepMicrosPerRecord;
    }

    @Override
    public DataStream<Decoded> features(
            StreamExecutionEnvironment env,
            SourceDecoder decoder,
            WatermarkStrategy<Decoded> time) {
        return delegate.features(env, decoder, time)
                .map(new Throttle(sleepMicrosPerRecord))
                .returns(Decoded.class)
                .uid("throttle")
                .name("throttle")
                // its own task: a slow throttle back-pressures the source (whose idleness clock
                // then stops) instead of slowing the source's own thread
                .disableChaining();
    }

    /** Sleeps {@code micros} per record (accumulated to whole milliseconds). */
    static final class Throttle implements MapFunction<Decoded, Decoded>, CheckpointListener {
        private static final long serialVersionUID = 1L;
        private final long micros;
        private long owed;

        Throttle(long micros) {
            this.micros = micros;
        }

        @Override
        public Decoded map(Decoded value) throws InterruptedException {
            owed += micros;
            if (owed >= 1_000) {
                Thread.sleep(owed / 1_000);
                owed %= 1_000;
            }
            return value;
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            CHECKPOINTS.incrementAndGet();
        }
    }
}
