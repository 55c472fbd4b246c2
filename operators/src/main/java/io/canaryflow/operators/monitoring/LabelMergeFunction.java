package io.canaryflow.operators.monitoring;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.operators.decode.ExperimentSchema;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The label outcomes' own merge, keyed by experiment and run on the label join's time: adds up the
 * {@link LabelPartial}s of every join subtask per (version, arm, bucket) and, when the label join's
 * watermark passes a window's end, emits one <em>label report</em> per series with outcomes in the
 * window (a {@link MonitoringRecord} whose {@link MonitoringRecord#labelReport()} is true). The
 * window reports of drift, errors and latency are the other merge's ({@link WindowMergeFunction}),
 * on the predictions' time alone: they never wait for labels, and label outcomes follow when their
 * labels are known.
 *
 * <p>Predictions still awaiting labels are carried per series from window to window ({@code
 * pending}). An outcome whose window was already reported (its input idle, then back with older
 * outcomes) is counted in the first window still open, as window partials are.
 *
 * <p>After a window's label reports it sends a {@link MonitoringRecord#labelsThrough} mark for the
 * experiment, which the judge waits for before it judges a window on label outcomes.
 *
 * <p>Gauges per series, with its latest label report (group {@code canaryflow}, key-value groups
 * {@code experiment, version, arm}): {@code labelErrorRate}, {@code labelsPending}, {@code
 * labelsLate}.
 */
public class LabelMergeFunction
        extends KeyedProcessFunction<String, LabelPartial, MonitoringRecord> {
    private static final long serialVersionUID = 1L;

    private final ModelRepository repository;
    private final Map<String, ExperimentSchema> schemas;
    private final Map<String, String> sharedScoreVersions;
    private final MonitorSettings settings;

    private transient MapState<String, LabelPartial> labels;
    private transient MapState<String, Long> pending;
    private transient ValueState<Long> reportedThrough;
    private transient MonitorReferences references;
    private transient Map<String, Double> latest;
    private transient MetricGroup metrics;

    public LabelMergeFunction(
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            Map<String, String> sharedScoreVersions,
            MonitorSettings settings) {
        this.repository = repository;
        this.schemas = Map.copyOf(schemas);
        this.sharedScoreVersions = Map.copyOf(sharedScoreVersions);
        this.settings = settings;
    }

    @Override
    public void open(OpenContext openContext) {
        labels =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "labels",
                                        Types.STRING,
                                        TypeInformation.of(LabelPartial.class)));
        pending =
                getRuntimeContext()
                        .getMapState(new MapStateDescriptor<>("pending", Types.STRING, Types.LONG));
        reportedThrough =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("reported-through", Types.LONG));
        references = new MonitorReferences(repository, schemas, sharedScoreVersions);
        latest = new HashMap<>();
        metrics = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
    }

    @Override
    public void processElement(LabelPartial partial, Context ctx, Collector<MonitoringRecord> out)
            throws Exception {
        long open = openBucketStart(partial.windowEnd(), ctx);
        if (open != Long.MIN_VALUE) {
            partial = partial.in(open, open + settings.slideMillis());
        }
        String key = partial.version() + '\u0000' + partial.arm() + '\u0000' + partial.windowEnd();
        LabelPartial current = labels.get(key);
        labels.put(key, current == null ? partial : current.plus(partial));
        for (long end = partial.windowEnd();
                end < partial.windowEnd() + settings.windowMillis();
                end += settings.slideMillis()) {
            ctx.timerService().registerEventTimeTimer(end - 1);
        }
    }

    /**
     * {@link Long#MIN_VALUE} while the bucket ending at {@code bucketEnd} is open; once reported,
     * the start of the first bucket still open (see {@link WindowMergeFunction}).
     */
    private long openBucketStart(long bucketEnd, Context ctx) throws Exception {
        Long reported = reportedThrough.value();
        long watermark =
                Math.max(
                        ctx.timerService().currentWatermark(),
                        reported == null ? Long.MIN_VALUE : reported);
        if (bucketEnd - 1 > watermark || watermark == Long.MAX_VALUE) {
            return Long.MIN_VALUE;
        }
        return Math.floorDiv(watermark + 1, settings.slideMillis()) * settings.slideMillis();
    }

    /** Reports the label outcomes of the window {@code [end - window, end)} of every series. */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<MonitoringRecord> out)
            throws Exception {
        long end = timestamp + 1;
        long start = end - settings.windowMillis();
        Long reported = reportedThrough.value();
        if (reported == null || reported < timestamp) {
            reportedThrough.update(timestamp);
        }
        long keepAfter = start + settings.slideMillis();
        Map<String, LabelPartial> outcomes = new java.util.LinkedHashMap<>();
        Map<String, LabelPartial> lastBucket = new HashMap<>();
        List<String> done = new ArrayList<>();
        for (Map.Entry<String, LabelPartial> e : labels.entries()) {
            String key = e.getKey();
            int cut = key.lastIndexOf('\u0000');
            long bucketEnd = Long.parseLong(key.substring(cut + 1));
            String series = key.substring(0, cut);
            if (bucketEnd > start && bucketEnd <= end) {
                outcomes.merge(series, e.getValue().in(start, end), LabelPartial::plus);
                if (bucketEnd == end) {
                    lastBucket.put(series, e.getValue());
                }
            }
            if (bucketEnd <= keepAfter) {
                done.add(key);
            }
        }
        for (String key : done) {
            labels.remove(key);
        }
        long now = ctx.timerService().currentProcessingTime();
        for (Map.Entry<String, LabelPartial> e : outcomes.entrySet()) {
            LabelPartial l = e.getValue();
            MonitorReferences.Version v = references.of(l.experiment(), l.model(), l.version());
            if (v == null) {
                continue;
            }
            // Pending predictions run on from bucket to bucket: each bucket counts once.
            Long before = pending.get(e.getKey());
            long waiting = before == null ? 0 : before;
            LabelPartial newest = lastBucket.get(e.getKey());
            if (newest != null) {
                waiting += newest.opened() - newest.joined() - newest.expired();
                pending.put(e.getKey(), waiting);
            }
            MonitoringRecord report = WindowReports.labelReport(l, waiting, v, settings, now);
            publish(report);
            out.collect(report);
        }
        // every label report of the window is out: a judge of label outcomes may judge it
        out.collect(MonitoringRecord.labelsThrough(ctx.getCurrentKey(), end));
    }

    private void publish(MonitoringRecord r) {
        MetricGroup series =
                metrics.addGroup("experiment", r.experiment())
                        .addGroup("version", r.version())
                        .addGroup("arm", r.arm());
        String prefix = r.experiment() + '\u0000' + r.version() + '\u0000' + r.arm() + '\u0000';
        gauge(
                series,
                prefix,
                "labelErrorRate",
                "regressor".equals(r.labels().kind()) ? r.labels().mae() : r.labels().errorRate());
        gauge(series, prefix, "labelsPending", r.labels().pending());
        gauge(series, prefix, "labelsLate", r.labels().late());
    }

    private void gauge(MetricGroup group, String series, String name, double value) {
        String key = series + '\u0000' + name;
        if (latest.put(key, value) == null) {
            group.gauge(name, () -> latest.get(key));
        }
    }
}
