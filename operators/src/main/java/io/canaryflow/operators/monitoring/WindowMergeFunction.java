package io.canaryflow.operators.monitoring;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.drift.DriftMeasures;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Second stage of monitoring, keyed by series (experiment, version, arm, see {@link
 * WindowPartial#seriesKey}): adds up the partials of every subtask per window and, when the
 * watermark passes a window's end, reports it and drops its state.
 *
 * <p>Keeping a series on one subtask also gives each series one set of gauges, updated with its
 * latest report (group {@code canaryflow}, key-value groups {@code experiment, version, arm} and
 * {@code feature}): {@code psi} per feature, {@code scorePsi}, {@code count} and {@code
 * latencyP99Us}. Features come from the manifests, never from events, so the number of series is
 * bounded by the configured experiments' versions, arms and features, not by traffic.
 */
public class WindowMergeFunction
        extends KeyedProcessFunction<String, WindowPartial, MonitoringRecord> {
    private static final long serialVersionUID = 1L;

    private final ModelRepository repository;
    private final Map<String, ExperimentSchema> schemas;
    private final DriftMeasures.Thresholds thresholds;

    private transient MapState<Long, WindowPartial> windows;
    private transient MonitorReferences references;
    private transient Map<String, Double> latest;
    private transient MetricGroup metrics;

    public WindowMergeFunction(
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            DriftMeasures.Thresholds thresholds) {
        this.repository = repository;
        this.schemas = Map.copyOf(schemas);
        this.thresholds = thresholds;
    }

    @Override
    public void open(OpenContext openContext) {
        windows =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "windows",
                                        Types.LONG,
                                        TypeInformation.of(WindowPartial.class)));
        references = new MonitorReferences(repository, schemas);
        latest = new HashMap<>();
        metrics = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
    }

    @Override
    public void processElement(WindowPartial partial, Context ctx, Collector<MonitoringRecord> out)
            throws Exception {
        WindowPartial current = windows.get(partial.windowEnd());
        windows.put(partial.windowEnd(), current == null ? partial : current.plus(partial));
        if (current == null) {
            ctx.timerService().registerEventTimeTimer(partial.windowEnd() - 1);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<MonitoringRecord> out)
            throws Exception {
        WindowPartial window = windows.get(timestamp + 1);
        windows.remove(timestamp + 1); // the window is final: keep no state for it
        if (window == null) {
            return;
        }
        MonitorReferences.Version v =
                references.of(window.experiment(), window.model(), window.version());
        if (v != null) {
            MonitoringRecord report =
                    WindowAggregate.report(
                            window, v, thresholds, ctx.timerService().currentProcessingTime());
            publish(report);
            out.collect(report);
        }
    }

    private void publish(MonitoringRecord r) {
        MetricGroup series =
                metrics.addGroup("experiment", r.experiment())
                        .addGroup("version", r.version())
                        .addGroup("arm", r.arm());
        String prefix = r.experiment() + '\u0000' + r.version() + '\u0000' + r.arm() + '\u0000';
        for (int i = 0; i < r.featureNames().length; i++) {
            gauge(
                    series.addGroup("feature", r.featureNames()[i]),
                    prefix + r.featureNames()[i],
                    "psi",
                    r.featureDrift()[i].psi());
        }
        if (r.scoreDrift() != null) {
            gauge(series, prefix, "scorePsi", r.scoreDrift().psi());
        }
        gauge(series, prefix, "count", r.count());
        gauge(series, prefix, "latencyP99Us", r.latencyP99Us());
    }

    /** Sets a gauge's value, registering the gauge the first time. */
    private void gauge(MetricGroup group, String series, String name, double value) {
        String key = series + '\u0000' + name;
        if (latest.put(key, value) == null) {
            group.gauge(name, () -> latest.get(key));
        }
    }
}
