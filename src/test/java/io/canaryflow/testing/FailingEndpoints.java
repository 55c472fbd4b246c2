package io.canaryflow.testing;

import io.canaryflow.jobs.Pipeline;
import io.canaryflow.operators.control.Decision;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.SourceRecord;
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
    public DataStream<SourceRecord> features(StreamExecutionEnvironment env) {
        return delegate.features(env)
                .map(new FailOnceAfterCheckpoint<>(after))
                .uid("inject-failure")
                .name("inject failure");
    }

    @Override
    public DataStream<SourceRecord> labels(StreamExecutionEnvironment env) {
        return delegate.labels(env);
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
