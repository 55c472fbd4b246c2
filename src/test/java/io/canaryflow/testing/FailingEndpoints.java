package io.canaryflow.testing;

import io.canaryflow.jobs.Pipeline;
import io.canaryflow.operators.decode.Decoded;
import io.canaryflow.operators.decode.SourceDecoder;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job's endpoints with one injected failure: the features pass through {@link
 * FailOnceAfterCheckpoint}, so the job recovers from a checkpoint mid-stream.
 */
public final class FailingEndpoints extends DelegatingEndpoints {
    private final long after;

    /** Fails once after {@code after} features and a completed checkpoint. */
    public FailingEndpoints(Pipeline.Endpoints delegate, long after) {
        super(delegate);
        this.after = after;
    }

    @Override
    public DataStream<Decoded> features(
            StreamExecutionEnvironment env,
            SourceDecoder decoder,
            WatermarkStrategy<Decoded> time) {
        return delegate.features(env, decoder, time)
                .map(new FailOnceAfterCheckpoint<>(after))
                .returns(Decoded.class)
                .uid("inject-failure")
                .name("inject failure");
    }
}
