package io.canaryflow.testing;

import io.canaryflow.jobs.Pipeline;
import io.canaryflow.operators.control.Decision;
import io.canaryflow.operators.decode.Decoded;
import io.canaryflow.operators.decode.SourceDecoder;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.SourceRecord;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job's endpoints with one injected failure: the features pass through {@link
 * FailOnceAfterCheckpoint}, so the job recovers from a checkpoint mid-stream.
 */
public final class FailingEndpoints implements Pipeline.Endpoints {
    private final Pipeline.Endpoints delegate;
    private final long after;

    /** Fails once after {@code after} features and a completed checkpoint. */
    public FailingEndpoints(Pipeline.Endpoints delegate, long after) {
        this.delegate = delegate;
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

    @Override
    public DataStream<Decoded> labels(
            StreamExecutionEnvironment env,
            SourceDecoder decoder,
            WatermarkStrategy<Decoded> time) {
        return delegate.labels(env, decoder, time);
    }

    @Override
    public DataStream<SourceRecord> control(StreamExecutionEnvironment env) {
        return delegate.control(env);
    }

    @Override
    public Sink<Decision> decisions() {
        return delegate.decisions();
    }

    @Override
    public Sink<Prediction> predictions() {
        return delegate.predictions();
    }

    @Override
    public Sink<DeadLetter> deadLetters() {
        return delegate.deadLetters();
    }

    @Override
    public Sink<MonitoringRecord> monitoring() {
        return delegate.monitoring();
    }
}
