package io.canaryflow.operators.monitoring;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.units.UnitSketch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * Second stage of monitoring, keyed by experiment: adds up the partials of every subtask per
 * (version, arm, bucket), window counts from {@link LocalMonitorOperator} and the route operator's
 * counts of what it routed (one stream of {@link MonitorPartial}s), and, when the watermark passes
 * a window's end, reports every series of the window (the sum of its buckets: one for tumbling
 * windows, window / slide for sliding ones, each bucket counting the units that were new to this
 * window there, so that a unit active in several slides counts once) and drops the buckets no later
 * window needs. Keying by experiment puts the arms of one window side by side: a candidate's score
 * is compared with its control cohort's, a shadow's with the served baseline's. Label outcomes are
 * not here: they are reported on the label join's own time by {@link LabelMergeFunction}, so that
 * these reports never wait for labels.
 *
 * <p>Gauges per series, updated with its latest report (group {@code canaryflow}, key-value groups
 * {@code experiment, version, arm}, and {@code feature} for {@code psi}): {@code psi}, {@code
 * scorePsi}, {@code scorePsiVersusArm}, {@code count}, {@code latencyP99Us}, {@code errorRate},
 * {@code reportedAt}, {@code late}. Features come from the manifests and versions and arms from the
 * configured experiments, never from event values, so the number of series is bounded; segment
 * values are not metric labels (they are in the topic only).
 */
public class WindowMergeFunction
        extends KeyedProcessFunction<String, MonitorPartial, MonitoringRecord> {
    private static final long serialVersionUID = 1L;

    private final ModelRepository repository;
    private final Map<String, ExperimentSchema> schemas;
    private final Map<String, String> sharedScoreVersions;
    private final MonitorSettings settings;
    private final boolean routingCounted;

    private transient MapState<String, WindowPartial> windows;
    private transient MapState<String, RoutedPartial> routed;
    private transient ValueState<Long> reportedThrough;
    private transient MonitorReferences references;
    private transient Map<String, Double> latest;
    private transient MetricGroup metrics;
    private transient org.apache.flink.metrics.Counter late;

    /** A merge without the route operator's counts (a job without control). */
    public WindowMergeFunction(
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            Map<String, String> sharedScoreVersions,
            MonitorSettings settings) {
        this(repository, schemas, sharedScoreVersions, settings, false);
    }

    /**
     * @param sharedScoreVersions see {@link LocalMonitorOperator}
     * @param routingCounted whether the route operator's counts ({@link RoutedPartial}) reach the
     *     merge: then every report says what was routed to its series ({@code errors.routed}), and
     *     a series that was routed events but reported none is reported too
     */
    public WindowMergeFunction(
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            Map<String, String> sharedScoreVersions,
            MonitorSettings settings,
            boolean routingCounted) {
        this.repository = repository;
        this.schemas = Map.copyOf(schemas);
        this.sharedScoreVersions = Map.copyOf(sharedScoreVersions);
        this.settings = settings;
        this.routingCounted = routingCounted;
    }

    @Override
    public void open(OpenContext openContext) {
        windows =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "windows",
                                        Types.STRING,
                                        TypeInformation.of(WindowPartial.class)));
        routed =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "routed",
                                        Types.STRING,
                                        TypeInformation.of(RoutedPartial.class)));
        reportedThrough =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("reported-through", Types.LONG));
        references = new MonitorReferences(repository, schemas, sharedScoreVersions);
        latest = new HashMap<>();
        metrics = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
        late = metrics.counter("monitorLateMerged");
    }

    private static String key(String version, String arm, long windowEnd) {
        return version + '\u0000' + arm + '\u0000' + windowEnd;
    }

    @Override
    public void processElement(MonitorPartial in, Context ctx, Collector<MonitoringRecord> out)
            throws Exception {
        if (in.window() != null) {
            add(in.window(), ctx);
        } else {
            add(in.routed(), ctx);
        }
    }

    private void add(WindowPartial partial, Context ctx) throws Exception {
        long open = openBucketStart(partial.windowEnd(), ctx);
        if (open != Long.MIN_VALUE) {
            late.inc(partial.attempts() + partial.late());
            partial = partial.asLateIn(open, open + settings.slideMillis());
        }
        String key = key(partial.version(), partial.arm(), partial.windowEnd());
        WindowPartial current = windows.get(key);
        windows.put(key, current == null ? partial : current.plus(partial));
        registerWindowsOf(partial.windowEnd(), ctx);
    }

    /**
     * A count of routed events. One that comes after its bucket was reported (its input idle, then
     * back with old events, as for window partials) is dropped: monitoring counts those events as
     * late, not as attempts of a window, so they belong to no window's accounting.
     */
    private void add(RoutedPartial partial, Context ctx) throws Exception {
        if (openBucketStart(partial.windowEnd(), ctx) != Long.MIN_VALUE) {
            return;
        }
        String key = key(partial.version(), partial.arm(), partial.windowEnd());
        RoutedPartial current = routed.get(key);
        routed.put(key, current == null ? partial : current.plus(partial));
        registerWindowsOf(partial.windowEnd(), ctx);
    }

    /**
     * {@link Long#MIN_VALUE} while the bucket ending at {@code bucketEnd} is open; once the
     * watermark has passed it (its windows are reported), the start of the first bucket still open.
     * A partial can come after its bucket was reported when an input that was idle (its partitions
     * silent for {@code events.idle-timeout}, so the watermark went on without it) comes back with
     * events older than the watermark: they are late, and counted as such in the first open window
     * rather than reported twice.
     */
    private long openBucketStart(long bucketEnd, Context ctx) throws Exception {
        // The watermark is not checkpointed (it restarts from the beginning of time after a
        // restore); what was reported is.
        Long reported = reportedThrough.value();
        long watermark =
                Math.max(
                        ctx.timerService().currentWatermark(),
                        reported == null ? Long.MIN_VALUE : reported);
        if (bucketEnd - 1 > watermark || watermark == Long.MAX_VALUE) {
            return Long.MIN_VALUE; // open, or the end of input: nothing opens after it
        }
        return Math.floorDiv(watermark + 1, settings.slideMillis()) * settings.slideMillis();
    }

    /** A timer at the end of every window the bucket ending at {@code bucketEnd} is part of. */
    private void registerWindowsOf(long bucketEnd, Context ctx) {
        for (long end = bucketEnd;
                end < bucketEnd + settings.windowMillis();
                end += settings.slideMillis()) {
            ctx.timerService().registerEventTimeTimer(end - 1);
        }
    }

    private static long bucketEndOf(String key) {
        return Long.parseLong(key.substring(key.lastIndexOf('\u0000') + 1));
    }

    private static String seriesOf(String key) {
        return key.substring(0, key.lastIndexOf('\u0000'));
    }

    /**
     * Reports the window {@code [end - window, end)} of every series with data in it: the sum of
     * its buckets (one when tumbling). Buckets no later window needs are dropped.
     */
    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<MonitoringRecord> out)
            throws Exception {
        long end = timestamp + 1;
        long start = end - settings.windowMillis();
        Long reported = reportedThrough.value();
        if (reported == null || reported < timestamp) {
            reportedThrough.update(timestamp);
        }
        long keepAfter = start + settings.slideMillis(); // the next window's first bucket end
        Map<String, WindowPartial> series = new LinkedHashMap<>();
        List<String> done = new ArrayList<>();
        for (Map.Entry<String, WindowPartial> e : windows.entries()) {
            long bucketEnd = bucketEndOf(e.getKey());
            if (bucketEnd > start && bucketEnd <= end) {
                series.merge(
                        seriesOf(e.getKey()), e.getValue().in(start, end), WindowPartial::plus);
            }
            if (bucketEnd <= keepAfter) {
                done.add(e.getKey());
            }
        }
        for (String key : done) {
            windows.remove(key);
        }
        done.clear();
        Map<String, RoutedPartial> routedTo = new HashMap<>();
        for (Map.Entry<String, RoutedPartial> e : routed.entries()) {
            long bucketEnd = bucketEndOf(e.getKey());
            if (bucketEnd > start && bucketEnd <= end) {
                routedTo.merge(
                        seriesOf(e.getKey()), e.getValue().in(start, end), RoutedPartial::plus);
            }
            if (bucketEnd <= keepAfter) {
                done.add(e.getKey());
            }
        }
        for (String key : done) {
            routed.remove(key);
        }
        // Series that were routed events but reported none (all lost) are reported too.
        for (Map.Entry<String, RoutedPartial> e : routedTo.entrySet()) {
            if (!series.containsKey(e.getKey())) {
                RoutedPartial r = e.getValue();
                MonitorReferences.Version v = references.of(r.experiment(), r.model(), r.version());
                if (v != null) {
                    series.put(
                            e.getKey(),
                            WindowAggregate.empty(
                                    r.experiment(),
                                    r.model(),
                                    r.version(),
                                    r.arm(),
                                    start,
                                    end,
                                    v));
                }
            }
        }
        long now = ctx.timerService().currentProcessingTime();
        for (Map.Entry<String, WindowPartial> e : series.entrySet()) {
            WindowPartial w = e.getValue();
            MonitorReferences.Version v = references.of(w.experiment(), w.model(), w.version());
            if (v == null) {
                continue;
            }
            RoutedPartial r = routedTo.get(e.getKey());
            long routedCount = !routingCounted ? -1 : r == null ? 0 : r.routed();
            MonitoringRecord report =
                    WindowReports.report(w, compared(w, series), v, settings, now, routedCount);
            publish(report);
            out.collect(report);
        }
    }

    /** The window a series is compared with: candidate with control, shadow with baseline. */
    private static WindowPartial compared(WindowPartial w, Map<String, WindowPartial> series) {
        String arm =
                switch (w.arm()) {
                    case "candidate" -> "control";
                    case "shadow" -> "baseline";
                    default -> null;
                };
        if (arm == null) {
            return null;
        }
        WindowPartial match = null;
        for (WindowPartial other : series.values()) {
            if (other.arm().equals(arm) && other.count() > 0) {
                // several baseline-arm series (a fallback serving) add up: the same cohort
                match = match == null ? other : sumOfArm(match, other);
            }
        }
        return match;
    }

    private static WindowPartial sumOfArm(WindowPartial a, WindowPartial b) {
        long[] shared = a.sharedScoreCounts().clone();
        for (int i = 0; i < shared.length; i++) {
            shared[i] += b.sharedScoreCounts()[i];
        }
        return new WindowPartial(
                a.experiment(),
                a.model(),
                a.version(),
                a.arm(),
                a.windowStart(),
                a.windowEnd(),
                a.count() + b.count(),
                a.late() + b.late(),
                a.featureCounts(),
                a.featureNonFinite(),
                a.scoreCounts(),
                a.scoreNonFinite(),
                shared,
                new double[] {
                    a.scoreMoments()[0] + b.scoreMoments()[0],
                    a.scoreMoments()[1] + b.scoreMoments()[1]
                },
                a.latency(),
                a.failures(),
                a.timeouts(),
                a.segments(),
                a.segmentCounts(),
                a.paired(),
                a.activeUnits() + b.activeUnits(),
                UnitSketch.sum(a.units(), b.units()),
                a.latencyUnits(),
                null);
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
        if (r.scoreVersusArm() != null) {
            gauge(series, prefix, "scorePsiVersusArm", r.scoreVersusArm().psi());
        }
        // when this series last reported: alerts on its gauges hold only while it is fresh, so a
        // version that stops getting traffic (a rolled-back candidate) does not alert forever
        gauge(series, prefix, "reportedAt", r.reportedAt());
        gauge(series, prefix, "count", r.count());
        gauge(series, prefix, "late", r.late());
        gauge(series, prefix, "latencyP99Us", r.latencyP99Us());
        gauge(series, prefix, "errorRate", r.errors().rate());
    }

    /** Sets a gauge's value, registering the gauge the first time. */
    private void gauge(MetricGroup group, String series, String name, double value) {
        String key = series + '\u0000' + name;
        if (latest.put(key, value) == null) {
            group.gauge(name, () -> latest.get(key));
        }
    }
}
