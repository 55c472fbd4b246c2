package io.canaryflow.testing;

import io.canaryflow.jobs.Pipeline;
import io.canaryflow.operators.control.Decision;
import io.canaryflow.operators.decode.Decoded;
import io.canaryflow.operators.decode.SourceDecoder;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Prediction;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The job's endpoints as they are; subclasses decorate one of them (fault injection, a throttle).
 */
abstract class DelegatingEndpoints implements Pipeline.Endpoints {
    protected final Pipeline.Endpoints delegate;

    DelegatingEndpoints(Pipeline.Endpoints delegate) {
        this.delegate = delegate;
    }

    @Override
    public DataStream<Decoded> features(
            StreamExecutionEnvironment env,
            SourceDecoder decoder,
            WatermarkStrategy<Decoded> time) {
        return delegate.features(env, decoder, time);
    }

    @Override
    public DataStream<Decoded> labels(
            StreamExecutionEnvironment env,
            SourceDecoder decoder,
            WatermarkStrategy<Decoded> time) {
        return delegate.labels(env, decoder, time);
    }

    @Override
    public DataStream<io.canaryflow.operators.control.ControlRecord> control(
            StreamExecutionEnvironment env) {
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
