package io.canaryflow.operators.scoring;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelSession;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.modelloader.SessionCache;
import io.canaryflow.modelloader.SessionConfig;
import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.latency.RecentLatencies;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.RoutedEvent;
import io.canaryflow.operators.routing.RolloutPlan;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * The Flink side of {@link BatchScorer}: a batch is scored when it is full, when its first row has
 * waited {@code maxDelayMillis} (a processing-time timer), before every checkpoint barrier, before
 * a watermark or an idle status is passed on, and at end of input. Flushing before the barrier
 * means no event is buffered across a checkpoint, so nothing is lost or scored twice on recovery
 * and the operator needs no state of its own; flushing before a watermark keeps events from turning
 * late downstream, and flushing before going idle keeps them from arriving after their input
 * stopped holding time back downstream.
 *
 * <p>Its output holds every scoring outcome: each {@link Prediction} and, with {@code failure} set,
 * each failure of a version to score an event routed to it (for monitoring's inference error rates;
 * the pipeline keeps them out of the predictions topic).
 *
 * <p>Metrics (group {@code canaryflow}): {@code predictions}, {@code deadLetters}, {@code
 * inferenceErrors}, {@code shadowSkipped}, {@code buffered}, the {@code latencyUs} histogram, and
 * per {@code experiment}, {@code model} and {@code version}: {@code loaded} (1/0), {@code onCuda}
 * (1/0), and the running totals {@code batches}, {@code scoredRows} and {@code inferenceNanos}
 * (time inside ONNX Runtime).
 */
public class BatchScoringOperator extends AbstractStreamOperator<Prediction>
        implements OneInputStreamOperator<RoutedEvent, Prediction>, BoundedOneInput {
    private static final long serialVersionUID = 1L;

    private final ModelRepository repository;
    private final SessionConfig sessionConfig;
    private final Map<String, ExperimentSchema> schemas;
    private final List<RolloutPlan> preload;
    private final int maxBatch;
    private final long maxDelayMillis;

    private transient BatchScorer scorer;
    private transient BatchScorer.Emitter emitter;
    private transient boolean timerPending;
    private transient StreamRecord<Prediction> reuse;

    public BatchScoringOperator(
            ModelRepository repository,
            SessionConfig sessionConfig,
            Map<String, ExperimentSchema> schemas,
            Collection<RolloutPlan> preload,
            int maxBatch,
            long maxDelayMillis) {
        if (maxDelayMillis < 0) {
            throw new IllegalArgumentException("max delay must be >= 0 ms, got " + maxDelayMillis);
        }
        this.repository = repository;
        this.sessionConfig = sessionConfig;
        this.schemas = Map.copyOf(schemas);
        this.preload = List.copyOf(preload);
        this.maxBatch = maxBatch;
        this.maxDelayMillis = maxDelayMillis;
    }

    @Override
    public void open() throws Exception {
        super.open();
        MetricGroup group = getMetricGroup().addGroup("canaryflow");
        Counter predictions = group.counter("predictions");
        Counter deadLetters = group.counter("deadLetters");
        Counter failures = group.counter("inferenceErrors");
        Histogram latency = group.histogram("latencyUs", new RecentLatencies(10_000));
        reuse = new StreamRecord<>(null);
        emitter =
                new BatchScorer.Emitter() {
                    @Override
                    public void prediction(Prediction p) {
                        predictions.inc();
                        latency.update(p.latencyUs());
                        output.collect(reuse.replace(p, p.ts()));
                    }

                    @Override
                    public void failure(Prediction failed) {
                        failures.inc();
                        output.collect(new StreamRecord<>(failed, failed.ts()));
                    }

                    @Override
                    public void deadLetter(DeadLetter d) {
                        deadLetters.inc();
                        output.collect(Outputs.DEAD_LETTERS, new StreamRecord<>(d));
                    }
                };
        scorer =
                new BatchScorer(
                        repository,
                        sessionConfig,
                        schemas,
                        maxBatch,
                        SessionCache.shared(),
                        System::nanoTime,
                        () -> getProcessingTimeService().getCurrentProcessingTime(),
                        new BatchScorer.LoadListener() {
                            @Override
                            public void loaded(
                                    String experiment,
                                    ModelVersion id,
                                    ModelSession session,
                                    BatchScorer.InferenceCounters counters) {
                                MetricGroup version = versionGroup(group, experiment, id);
                                boolean cuda = session.device().startsWith("cuda");
                                version.gauge("loaded", () -> 1);
                                version.gauge("onCuda", () -> cuda ? 1 : 0);
                                version.gauge("batches", counters::batches);
                                version.gauge("scoredRows", counters::rows);
                                version.gauge("inferenceNanos", counters::nanos);
                            }

                            @Override
                            public void failed(String experiment, ModelVersion id, String error) {
                                versionGroup(group, experiment, id).gauge("loaded", () -> 0);
                            }
                        });
        group.gauge("shadowSkipped", () -> scorer.shadowSkipped());
        group.gauge("buffered", () -> scorer.buffered());
        for (RolloutPlan plan : preload) {
            for (String version : plan.versions()) {
                scorer.preload(plan.experiment(), plan.model(), version);
            }
        }
    }

    private static MetricGroup versionGroup(MetricGroup group, String experiment, ModelVersion id) {
        return group.addGroup("experiment", experiment)
                .addGroup("model", id.model())
                .addGroup("version", id.version());
    }

    @Override
    public void processElement(StreamRecord<RoutedEvent> element) {
        scorer.add(element.getValue(), emitter);
        armTimer();
    }

    private void armTimer() {
        if (!timerPending && scorer.buffered() > 0) {
            timerPending = true;
            getProcessingTimeService()
                    .registerTimer(scorer.oldestEnqueuedMillis() + maxDelayMillis, this::onTimer);
        }
    }

    private void onTimer(long time) {
        timerPending = false;
        scorer.flushDue(time, maxDelayMillis, emitter);
        armTimer();
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        scorer.flushAll(getProcessingTimeService().getCurrentProcessingTime(), emitter);
        super.processWatermark(mark);
    }

    /** An input going idle no longer holds time back downstream: what it buffered goes first. */
    @Override
    public void processWatermarkStatus(WatermarkStatus status) throws Exception {
        if (status.isIdle()) {
            scorer.flushAll(getProcessingTimeService().getCurrentProcessingTime(), emitter);
        }
        super.processWatermarkStatus(status);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        scorer.flushAll(getProcessingTimeService().getCurrentProcessingTime(), emitter);
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void endInput() {
        scorer.flushAll(getProcessingTimeService().getCurrentProcessingTime(), emitter);
    }

    @Override
    public void close() throws Exception {
        if (scorer != null) {
            scorer.close();
        }
        super.close();
    }
}
