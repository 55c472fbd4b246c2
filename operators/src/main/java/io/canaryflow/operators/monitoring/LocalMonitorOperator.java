package io.canaryflow.operators.monitoring;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.units.UnitWindows;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * First stage of monitoring, chained after the scorer: counts each prediction (and each scoring
 * failure) into its (experiment, version, arm, event-time bucket) aggregate on the heap — a bucket
 * is a tumbling window, or one slide of a sliding window, which the merge assembles — and emits
 * each aggregate as a {@link WindowPartial} when the watermark passes the bucket's end — before
 * passing the watermark on, so the merge downstream has every partial when its timer fires. When
 * its input goes idle it emits every open aggregate before passing the idle status on: from then on
 * this task no longer holds the merge's time back, so a partial sent later could find its window
 * closed. The merge adds the partials of one window, however many.
 *
 * <p>Units are counted once per window, not once per bucket: each series keeps the units of its
 * buckets that an open window still holds ({@link UnitWindows}), across the partials a barrier cuts
 * a bucket into, and each partial says, per window the bucket belongs to, how many of its units
 * were new to that window ({@link WindowPartial#unitsNewToWindow()}).
 *
 * <p>A prediction whose window has already been emitted (later than the watermark allows) is
 * counted as {@code late} in the first window still open for its series, and in nothing else of
 * that window (its features, score and latency belong to another time); metric {@code
 * canaryflow.monitorLate} counts it too. Predictions of a version whose manifest cannot be read
 * count in {@code canaryflow.monitorUnreferenced}.
 */
public class LocalMonitorOperator extends AbstractStreamOperator<WindowPartial>
        implements OneInputStreamOperator<Prediction, WindowPartial> {
    private static final long serialVersionUID = 1L;

    private final ModelRepository repository;
    private final Map<String, ExperimentSchema> schemas;
    private final Map<String, String> sharedScoreVersions;
    private final MonitorSettings settings;
    private final long bucketMillis;
    private final int bucketsPerWindow;
    private final int sampleThreshold;

    private transient MonitorReferences references;
    private transient Map<String, WindowAggregate> open;

    /**
     * Per series, the units seen in its buckets that an open window still holds: kept across the
     * partials a barrier cuts a bucket into.
     */
    private transient Map<String, UnitWindows> unitsSeen;

    private transient long watermark;
    private transient Counter late;
    private transient Counter unreferenced;
    private transient WindowAggregate lastAggregate;
    private transient Map<String, Prediction> unpaired;
    private transient Counter pairsUnmatched;
    private final java.util.Set<String> shadowExperiments;

    /**
     * @param sharedScoreVersions per experiment, the version whose reference score bins every arm's
     *     score is also binned on, for comparisons between arms (the configured baseline)
     * @param settings window length, timeout, segments; {@code sampleRate} is the share of
     *     predictions whose features enter the drift histograms, chosen by a hash of the event id
     *     (the same events on every replay); counts, score, latency and errors take every
     *     prediction
     */
    public LocalMonitorOperator(
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            Map<String, String> sharedScoreVersions,
            MonitorSettings settings) {
        this(repository, schemas, sharedScoreVersions, settings, java.util.Set.of());
    }

    /**
     * @param shadowExperiments experiments in shadow mode: each event's served baseline score and
     *     shadow score are paired (they leave the scorer in the same task before the next barrier),
     *     and the shadow series counts the pair's decision flips and score difference
     */
    public LocalMonitorOperator(
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            Map<String, String> sharedScoreVersions,
            MonitorSettings settings,
            java.util.Set<String> shadowExperiments) {
        this.shadowExperiments = java.util.Set.copyOf(shadowExperiments);
        this.repository = repository;
        this.schemas = Map.copyOf(schemas);
        this.sharedScoreVersions = Map.copyOf(sharedScoreVersions);
        this.settings = settings;
        this.bucketMillis = settings.slideMillis();
        this.bucketsPerWindow = Math.toIntExact(settings.windowMillis() / settings.slideMillis());
        this.sampleThreshold = (int) Math.round(settings.sampleRate() * SAMPLE_BUCKETS);
    }

    private static final int SAMPLE_BUCKETS = 1 << 16;

    private boolean sampled(Prediction p) {
        if (sampleThreshold >= SAMPLE_BUCKETS) {
            return true;
        }
        int h = p.eventId().hashCode() * 0x9E3779B9; // spread String.hashCode's low bits
        return (h >>> 16) < sampleThreshold;
    }

    @Override
    public void open() throws Exception {
        super.open();
        references = new MonitorReferences(repository, schemas, sharedScoreVersions);
        open = new HashMap<>();
        watermark = Long.MIN_VALUE;
        late = getMetricGroup().addGroup("canaryflow").counter("monitorLate");
        unreferenced = getMetricGroup().addGroup("canaryflow").counter("monitorUnreferenced");
        unpaired = new HashMap<>();
        unitsSeen = new HashMap<>();
        pairsUnmatched = getMetricGroup().addGroup("canaryflow").counter("pairsUnmatched");
    }

    @Override
    public void processElement(StreamRecord<Prediction> element) {
        Prediction p = element.getValue();
        long start = Math.floorDiv(p.ts(), bucketMillis) * bucketMillis;
        if (start + bucketMillis - 1 <= watermark) {
            // Its window has been reported: count it as late in the first window still open.
            late.inc();
            if (watermark < Long.MAX_VALUE) { // after the end of input no window opens again
                long open = Math.floorDiv(watermark + 1, bucketMillis) * bucketMillis;
                WindowAggregate aggregate = aggregateOf(p, open);
                if (aggregate != null) {
                    aggregate.addLate();
                }
            }
        } else {
            WindowAggregate aggregate = aggregateOf(p, start);
            if (aggregate != null) {
                aggregate.add(p, sampled(p));
            }
        }
        if (!shadowExperiments.isEmpty() && shadowExperiments.contains(p.experiment())) {
            pair(p);
        }
    }

    /**
     * The aggregate of {@code p}'s series in the window starting at {@code start}, or null if its
     * version has no references.
     */
    private WindowAggregate aggregateOf(Prediction p, long start) {
        // Consecutive predictions mostly share a window: skip building the map key then.
        WindowAggregate last = lastAggregate;
        if (last != null && last.holds(p, start)) {
            return last;
        }
        String series = p.experiment() + '\u0000' + p.version() + '\u0000' + p.arm().wireName();
        String key = series + '\u0000' + start;
        WindowAggregate aggregate = open.get(key);
        if (aggregate == null) {
            MonitorReferences.Version v = references.of(p.experiment(), p.model(), p.version());
            if (v == null) {
                unreferenced.inc();
                return null;
            }
            UnitWindows seen =
                    unitsSeen.computeIfAbsent(
                            series, s -> new UnitWindows(bucketMillis, bucketsPerWindow));
            aggregate = new WindowAggregate(p, start, start + bucketMillis, v, settings, seen);
            open.put(key, aggregate);
        }
        lastAggregate = aggregate;
        return aggregate;
    }

    /** Pairs a shadow experiment's served and shadow outcomes of one event. */
    private void pair(Prediction p) {
        if (p.arm() != Arm.BASELINE && p.arm() != Arm.SHADOW) {
            return;
        }
        Prediction other = unpaired.remove(p.eventId());
        if (other == null) {
            if (p.scored()) {
                unpaired.put(p.eventId(), p);
            }
            return;
        }
        if (!p.scored() || other.arm() == p.arm()) {
            return; // the shadow failed: nothing to compare
        }
        Prediction served = p.arm() == Arm.BASELINE ? p : other;
        Prediction shadow = p.arm() == Arm.SHADOW ? p : other;
        long start = Math.floorDiv(shadow.ts(), bucketMillis) * bucketMillis;
        WindowAggregate aggregate =
                start + bucketMillis - 1 <= watermark ? null : aggregateOf(shadow, start);
        if (aggregate != null) {
            aggregate.addPair(
                    io.canaryflow.operators.units.UnitSketch.hash(shadow.unit()),
                    served.score(),
                    shadow.score(),
                    settings.labelThreshold());
        }
    }

    @Override
    public void processWatermark(Watermark mark) throws Exception {
        watermark = mark.getTimestamp();
        unitsSeen.values().removeIf(s -> s.dropThrough(watermark));
        for (Iterator<WindowAggregate> it = open.values().iterator(); it.hasNext(); ) {
            WindowAggregate aggregate = it.next();
            if (aggregate.windowEnd() - 1 <= watermark) {
                output.collect(
                        new StreamRecord<>(aggregate.toPartial(), aggregate.windowEnd() - 1));
                it.remove();
                if (aggregate == lastAggregate) {
                    lastAggregate = null;
                }
            }
        }
        super.processWatermark(mark);
    }

    @Override
    public void processWatermarkStatus(WatermarkStatus status) throws Exception {
        if (status.isIdle()) {
            emitOpen();
        }
        super.processWatermarkStatus(status);
    }

    /**
     * Emits every open aggregate as a partial before the checkpoint barrier: the merge downstream
     * keeps partials in checkpointed state, so counts survive a failure, and the events after the
     * checkpoint, replayed on recovery, are counted once. This operator itself keeps no state.
     */
    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        // Both outcomes of an event leave the scorer before the barrier: what is unpaired now
        // has no partner (a shadow scoring skipped or failed).
        pairsUnmatched.inc(unpaired.size());
        unpaired.clear();
        emitOpen();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    private void emitOpen() {
        for (WindowAggregate aggregate : open.values()) {
            output.collect(new StreamRecord<>(aggregate.toPartial(), aggregate.windowEnd() - 1));
        }
        open.clear();
        lastAggregate = null;
    }

    /** Windows currently aggregating, for tests and metrics. */
    int openWindows() {
        return open.size();
    }

    /** Buckets whose units are held (over every series), for tests. */
    int unitBuckets() {
        int n = 0;
        for (UnitWindows w : unitsSeen.values()) {
            n += w.buckets();
        }
        return n;
    }
}
