package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.units.UnitSketch;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedMultiInput;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Joins predictions with their late labels by {@code event_id} in event time, keyed by event id on
 * both inputs, and counts the outcomes per (experiment, version, arm, window) on the heap, emitted
 * as {@link LabelPartial}s when the join's time passes a window and before every checkpoint barrier
 * (like {@link LocalMonitorOperator}, so outcomes are never counted twice after a recovery).
 *
 * <p>With label horizon {@code H}, a prediction at time {@code t} and its event's label at {@code
 * l} (the earliest, see below):
 *
 * <ul>
 *   <li><em>joined</em> if {@code t - H <= l <= t + H} (a label may come before its prediction, by
 *       at most {@code H}), counted in the window of {@code max(t, l)};
 *   <li><em>expired</em> otherwise, counted in the window of {@code t + H}; and, if {@code t + H <
 *       l <= t + 2H}, its label is <em>late</em>, counted in the window of {@code l}.
 * </ul>
 *
 * Outcomes are defined by the data alone, and the join counts them so: a prediction's expiry is
 * counted in advance in the window of {@code t + H} (that window is reported only once the labels'
 * time has passed it) and taken back when its label joins; a label joins or is late as soon as both
 * are there. So no event needs a timer to be counted.
 *
 * <p><b>Time.</b> The join runs on the smaller of its inputs' times and, unlike Flink's default,
 * the predictions' input does not release it when idle: a label waits for its prediction's time
 * however long the features pause. The labels' input releases it only when idle, which the labels
 * source marks after {@code labels.idle-timeout} (10 min) of silence in every labels partition:
 * until then a prediction expires only once the labels' own time has passed its horizon, whatever
 * order the topics started or paused in. A label that comes while the labels' input is idle holds
 * the join's time again, until the input reports a status or, at the latest, until no label has
 * come for twice {@code labels.idle-timeout} (the labels task, holding its own time that long on a
 * clock that stops while it is back-pressured, reports nothing if its time does not move on).
 *
 * <p><b>One label per event</b>: the earliest {@code ts} (on a tie, the smallest value) wins,
 * whatever the arrival order. A label that comes after another of the same event counts in {@code
 * labelsDuplicate}; if it is earlier and not behind the join's time, it replaces the other, whose
 * outcomes are taken back from their windows (still open: both labels are later than the join's
 * time) and replaced by its own. The join's time is kept in checkpoints (operator state {@code
 * join-time}), so a restore decides about replayed records as the run before did.
 *
 * <p><b>State</b>: one value per event id (state {@code events}): its predictions' series hash,
 * time, score and unit hash, and its label; 28 bytes per prediction, 16 per label, plus 14. It is
 * kept until {@code t + 2H} (a late label can still come) or, for a label without its prediction,
 * {@code l + H}. Instead of a timer per event, every event id is listed under its key group and
 * cleanup step (state {@code cleanup-listed}, a list per step of {@code max(window, 2H / 32)}) and
 * one timer per key group and step removes the step's events without reading them: each entry
 * carries whether the event's label never met a prediction it applies to (then counted in {@code
 * labelsUnmatched}), and an entry that stops holding (a later step, the other flag) is cancelled in
 * state {@code cleanup-cancelled} at its step. A version before's lists (state {@code cleanup}: ids
 * alone) are still read, and each of their events looked up. Events are written to RocksDB once per
 * checkpoint (or every {@value #MAX_DIRTY} changed events), not per record: between checkpoints
 * they are changed on the heap, where the last checkpoint's events also stay for quick lookups. An
 * id not on the heap is looked up in the backend only if a Bloom filter of the ids this run wrote
 * ({@link StoredIds}, on the heap, not checkpointed) may hold it: a new prediction, the common
 * case, costs no backend read. After a restore every id is looked up until the last cleanup step
 * with a restored timer has passed.
 *
 * <p>Restoring a savepoint of a version before: its per-event values (state {@code event}) are read
 * and converted when their event is next touched or their old timer (service {@code label-horizon})
 * fires.
 */
public class LabelJoinOperator extends AbstractStreamOperator<LabelPartial>
        implements TwoInputStreamOperator<WaitingPrediction, Label, LabelPartial>,
                BoundedMultiInput,
                Triggerable<String, VoidNamespace> {
    private static final long serialVersionUID = 2L;

    /** Changed events kept on the heap at most before they are written to the state backend. */
    static final int MAX_DIRTY = 100_000;

    /** Events of the last write kept on the heap at most, for quick lookups. */
    static final int MAX_CACHED = 200_000;

    private final long windowMillis;
    private final long horizonMillis;
    private final double threshold;
    private final Map<Long, LabelSeries> series;
    private final long cleanupStep;
    private final long labelsIdleTimeoutMillis;

    private transient ValueState<byte[]> events;
    private transient ValueState<Entry> legacy;

    /** Whether the state restored holds events of a version before (looked up only then). */
    private transient boolean hasLegacy;

    /** A version before's cleanup lists (state {@code cleanup}): ids, each looked up when due. */
    private transient ListStateDescriptor<String> cleanupDescriptor;

    /** Cleanup entries (state {@code cleanup-listed}): a flag and an id, removed unread. */
    private transient ListStateDescriptor<String> listedDescriptor;

    /** Entries no longer due at their step (state {@code cleanup-cancelled}). */
    private transient ListStateDescriptor<String> cancelledDescriptor;

    private transient InternalTimerService<VoidNamespace> cleanupTimers;
    private transient Map<String, EventState> heap;
    private transient StoredIds stored;
    private transient int dirty;
    private transient Map<Slot, List<String>> listedPending;
    private transient Map<Slot, List<String>> cancelledPending;
    private transient Set<Slot> cleanupTimed;
    private transient Map<Integer, String> stepKeys;
    private transient int keyGroups;
    private transient Map<SeriesWindow, Acc> open;
    private transient long emittedWatermark;
    private transient long predictionsTime;
    private transient long labelsTime;
    private transient boolean labelsIdle;

    /**
     * The labels' input idle upstream, but its time held by a label that came (see {@link
     * #processElement2}); {@code holds} counts the holds, so that a hold's deadline ends only its
     * own.
     */
    private transient boolean labelsHeld;

    private transient long holds;

    /** When the last label came while the labels' time was held (processing time). */
    private transient long lastHeldLabelAt;

    private transient long joinTime;
    private transient ListState<Long> joinTimes;
    private transient ListState<LabelSeries> learnedSeries;
    private transient Map<Long, LabelSeries> known;
    private transient List<LabelSeries> learned;
    private transient long restoredTime;
    private transient Counter duplicates;
    private transient Counter unmatched;
    private transient Counter unknownSeries;

    /**
     * @param windowMillis the length of the buckets outcomes are counted in: the monitoring window,
     *     or its slide when windows slide
     * @param threshold a score at or above it predicts the positive class; a label at or above 0.5
     *     is the positive class
     * @param series every series a prediction can belong to ({@link LabelSeries#of})
     * @param labelsIdleTimeoutMillis {@code labels.idle-timeout}: a label that comes while the
     *     labels' input is idle holds the join's time until no label has come for twice this, if
     *     the labels' input stays idle (0: until it is active again)
     */
    public LabelJoinOperator(
            long windowMillis,
            long horizonMillis,
            double threshold,
            Map<Long, LabelSeries> series,
            long labelsIdleTimeoutMillis) {
        if (windowMillis < 1 || horizonMillis < 1) {
            throw new IllegalArgumentException(
                    "window and label horizon must be positive, got "
                            + windowMillis
                            + " and "
                            + horizonMillis);
        }
        this.windowMillis = windowMillis;
        this.horizonMillis = horizonMillis;
        this.threshold = threshold;
        this.series = new HashMap<>(series);
        this.cleanupStep = Math.max(windowMillis, 2 * horizonMillis / 32);
        this.labelsIdleTimeoutMillis = labelsIdleTimeoutMillis;
    }

    @Override
    public void open() throws Exception {
        super.open();
        events =
                getPartitionedState(
                        new ValueStateDescriptor<>(
                                "events",
                                org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo
                                        .BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        // before registering it: the backend knows the state only if a savepoint brought it
        try (java.util.stream.Stream<String> old =
                this.<String>getKeyedStateBackend().getKeys("event", VoidNamespace.INSTANCE)) {
            hasLegacy = old.findAny().isPresent();
        }
        legacy =
                getPartitionedState(
                        new ValueStateDescriptor<>("event", TypeInformation.of(Entry.class)));
        cleanupDescriptor = new ListStateDescriptor<>("cleanup", Types.STRING);
        listedDescriptor = new ListStateDescriptor<>("cleanup-listed", Types.STRING);
        cancelledDescriptor = new ListStateDescriptor<>("cleanup-cancelled", Types.STRING);
        cleanupTimers =
                getInternalTimerService("label-cleanup", VoidNamespaceSerializer.INSTANCE, this);
        // the timers of a version before: each converts its event when it fires
        getInternalTimerService(
                "label-horizon",
                VoidNamespaceSerializer.INSTANCE,
                new Triggerable<String, VoidNamespace>() {
                    @Override
                    public void onEventTime(InternalTimer<String, VoidNamespace> timer)
                            throws Exception {
                        EventState e = load(timer.getKey());
                        if (e != null) {
                            touch(timer.getKey(), e);
                        }
                    }

                    @Override
                    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) {}
                });
        heap = new HashMap<>();
        stored = new StoredIds();
        // Events restored are listed under the cleanup steps of their timers: until the last of
        // those has passed, any id may be stored (values of a version before: for good).
        long[] lastStep = {hasLegacy ? Long.MAX_VALUE : Long.MIN_VALUE};
        cleanupTimers.forEachEventTimeTimer(
                (namespace, step) -> lastStep[0] = Math.max(lastStep[0], step));
        if (lastStep[0] != Long.MIN_VALUE) {
            stored.unknownUntil(lastStep[0]);
        }
        dirty = 0;
        listedPending = new HashMap<>();
        cancelledPending = new HashMap<>();
        cleanupTimed = new HashSet<>();
        stepKeys = new HashMap<>();
        keyGroups = getRuntimeContext().getTaskInfo().getMaxNumberOfParallelSubtasks();
        open = new HashMap<>();
        emittedWatermark = restoredTime;
        predictionsTime = Long.MIN_VALUE;
        labelsTime = Long.MIN_VALUE;
        labelsIdle = false;
        labelsHeld = false;
        joinTime = restoredTime;
        duplicates = getMetricGroup().addGroup("canaryflow").counter("labelsDuplicate");
        unmatched = getMetricGroup().addGroup("canaryflow").counter("labelsUnmatched");
        unknownSeries = getMetricGroup().addGroup("canaryflow").counter("labelSeriesUnknown");
    }

    @Override
    public void processElement1(StreamRecord<WaitingPrediction> element) throws Exception {
        WaitingPrediction p = element.getValue();
        if (p.named() != null && known.putIfAbsent(p.series(), p.named()) == null) {
            learned.add(p.named()); // a version a command brought: kept in checkpoints
        }
        String id = p.eventId();
        EventState e = load(id);
        if (e == null) {
            e = new EventState();
        }
        acc(p.series(), p.ts()).opened++;
        int i = e.add(p);
        count(e, i, e.labelled ? e.labelTs : NO_LABEL, e.label, 1);
        schedule(id, e, p.ts() + 2 * horizonMillis);
        touch(id, e);
    }

    @Override
    public void processElement2(StreamRecord<Label> element) throws Exception {
        if (labelsIdle) {
            // A label proves its input live: a labels task resuming after idleness holds its time
            // (stays idle downstream) until its partitions' watermarks move on; meanwhile the join
            // waits for the labels' time again rather than expire predictions on the predictions'.
            // If their watermarks never move on (the label was no newer than they were), the task
            // never reports itself active again: the hold ends once no label has come for twice
            // labels.idle-timeout (the task's own hold, on a clock that stops while it is
            // back-pressured, plus as much again), unless the input has reported a status since.
            labelsIdle = false;
            labelsHeld = true;
            lastHeldLabelAt = getProcessingTimeService().getCurrentProcessingTime();
            holdUntil(++holds);
        } else if (labelsHeld) {
            lastHeldLabelAt = getProcessingTimeService().getCurrentProcessingTime();
        }
        Label label = element.getValue();
        String id = label.eventId();
        EventState e = load(id);
        if (e == null) {
            e = new EventState();
        }
        if (e.labelled) {
            // One label per event: the earliest, whatever the arrival order; another is a
            // duplicate, and replaces the one held only if earlier and not behind the join's time.
            duplicates.inc();
            boolean earlier =
                    label.ts() != e.labelTs
                            ? label.ts() < e.labelTs
                            : Double.compare(label.label(), e.label) < 0;
            if (!earlier || label.ts() <= joinTime) {
                touch(id, e); // unchanged, but perhaps just converted from a version before
                return;
            }
        }
        for (int i = 0; i < e.n; i++) {
            count(e, i, e.labelled ? e.labelTs : NO_LABEL, e.label, -1);
            count(e, i, label.ts(), label.label(), 1);
        }
        e.labelled = true;
        e.labelTs = label.ts();
        e.label = label.label();
        // without a prediction it waits for one; with them, whether the label is unmatched changes
        schedule(id, e, e.n == 0 ? label.ts() + horizonMillis : Long.MIN_VALUE);
        touch(id, e);
    }

    /**
     * Ends hold {@code hold} once no label has come for twice labels.idle-timeout, unless the input
     * reported a status (or another hold began) meanwhile; one timer at a time.
     */
    private void holdUntil(long hold) {
        if (labelsIdleTimeoutMillis <= 0) {
            return; // without a timeout the labels task never goes idle again: held until active
        }
        long deadline = lastHeldLabelAt + 2 * labelsIdleTimeoutMillis;
        getProcessingTimeService()
                .registerTimer(
                        deadline,
                        t -> {
                            if (!labelsHeld || holds != hold) {
                                return;
                            }
                            if (t < lastHeldLabelAt + 2 * labelsIdleTimeoutMillis) {
                                holdUntil(hold); // a label came since: from the last one
                                return;
                            }
                            labelsHeld = false;
                            labelsIdle = true;
                            advance();
                        });
    }

    private static final long NO_LABEL = Long.MIN_VALUE;

    /**
     * Adds ({@code sign} 1) or takes back (-1) the outcome of prediction {@code i} of {@code e}
     * under a label at {@code labelTs} ({@link #NO_LABEL} for none): joined, or expired and maybe
     * late.
     */
    private void count(EventState e, int i, long labelTs, double label, int sign) {
        long t = e.ts[i];
        boolean applies = labelTs != NO_LABEL && labelTs >= t - horizonMillis;
        if (applies && labelTs <= t + horizonMillis) {
            Acc acc = acc(e.series[i], Math.max(t, labelTs));
            acc.joined += sign;
            boolean positive = label >= 0.5;
            boolean wrong = (e.score[i] >= threshold) != positive;
            if (wrong) {
                acc.misclassified += sign;
            }
            if (e.unit[i] == 0) {
                acc.covered = false; // a prediction without a unit
            } else {
                acc.units().add(e.unit[i], sign, wrong ? sign : 0, 0, 0, 0);
            }
            double p = Math.min(1 - 1e-15, Math.max(1e-15, e.score[i]));
            acc.logLossSum += sign * -(positive ? Math.log(p) : Math.log1p(-p));
            acc.absErrorSum += sign * Math.abs(label - e.score[i]);
            return;
        }
        acc(e.series[i], t + horizonMillis).expired += sign;
        if (applies && labelTs <= t + 2 * horizonMillis) {
            acc(e.series[i], labelTs).late += sign;
        }
    }

    private static final char UNMATCHED = 'u';
    private static final char MATCHED = '.';

    /**
     * Lists the event for removal at the cleanup step of {@code until} if later than its step so
     * far ({@link Long#MIN_VALUE}: keeps the step), with whether its label then counts as
     * unmatched, so that the removal needs no read of the event. An entry that no longer holds (an
     * earlier step, the other flag) is cancelled. An event a version before listed keeps that entry
     * (looked up when due) until its step changes.
     */
    private void schedule(String id, EventState e, long until) {
        long step =
                until == Long.MIN_VALUE
                        ? e.cleanupAt
                        : Math.max(
                                e.cleanupAt,
                                Math.floorDiv(until, cleanupStep) * cleanupStep + cleanupStep);
        boolean unmatchedLabel = e.labelled && !e.labelApplies(horizonMillis);
        if (step == e.cleanupAt && (!e.listed || unmatchedLabel == e.listedUnmatched)) {
            return;
        }
        int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(id, keyGroups);
        if (e.listed) {
            add(cancelledPending, keyGroup, e.cleanupAt, entry(e.listedUnmatched, id));
        }
        e.cleanupAt = step;
        e.listed = true;
        e.listedUnmatched = unmatchedLabel;
        add(listedPending, keyGroup, step, entry(unmatchedLabel, id));
    }

    private static String entry(boolean unmatchedLabel, String id) {
        return (unmatchedLabel ? UNMATCHED : MATCHED) + id;
    }

    /** Adds an entry for the key group's step, with the step's timer if it has none yet. */
    private void add(Map<Slot, List<String>> pending, int keyGroup, long step, String entry) {
        Slot slot = new Slot(keyGroup, step);
        pending.computeIfAbsent(slot, k -> new ArrayList<>()).add(entry);
        if (cleanupTimed.add(slot)) {
            Object key = getCurrentKey();
            setCurrentKey(stepKey(keyGroup));
            cleanupTimers.registerEventTimeTimer(VoidNamespace.INSTANCE, step);
            setCurrentKey(key);
        }
    }

    /**
     * A key group and a cleanup step: the step itself, not its index, since a step restored from a
     * run with another cleanup step (another horizon or window) need not be a multiple of this
     * run's.
     */
    private record Slot(int keyGroup, long step) {}

    /**
     * A key of the key group under which its cleanup lists and timers are kept (found once per key
     * group, the same in every run: the lists move with their key group on rescaling).
     */
    private String stepKey(int keyGroup) {
        return stepKeys.computeIfAbsent(
                keyGroup,
                g -> {
                    int groups = keyGroups;
                    for (int i = 0; ; i++) {
                        String key = "\u0000cleanup-" + g + "-" + i;
                        if (KeyGroupRangeAssignment.assignToKeyGroup(key, groups) == g) {
                            return key;
                        }
                    }
                });
    }

    /**
     * Removes the events listed for the step that ends now (their key group's timer fired): each
     * entry not cancelled, without reading its event; a version before's entries are looked up.
     */
    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        long step = timer.getTimestamp();
        String stepKey = timer.getKey();
        int keyGroup = KeyGroupRangeAssignment.assignToKeyGroup(stepKey, keyGroups);
        Slot slot = new Slot(keyGroup, step);
        cleanupTimed.remove(slot);
        List<String> entries = take(listedDescriptor, step, listedPending.remove(slot));
        Map<String, Integer> cancelled = new HashMap<>();
        for (String c : take(cancelledDescriptor, step, cancelledPending.remove(slot))) {
            cancelled.merge(c, 1, Integer::sum);
        }
        for (String entry : entries) {
            Integer cancels = cancelled.get(entry);
            if (cancels != null) { // one cancel per entry it cancels
                if (cancels == 1) {
                    cancelled.remove(entry);
                } else {
                    cancelled.put(entry, cancels - 1);
                }
                continue;
            }
            if (entry.charAt(0) == UNMATCHED) {
                unmatched.inc(); // never met a prediction it applies to
            }
            String id = entry.substring(1);
            EventState e = heap.get(id);
            remove(id, e == null ? new EventState() : e); // not read: only its removal is written
        }
        for (String id : take(cleanupDescriptor, step, null)) {
            setCurrentKey(id);
            EventState e = load(id);
            if (e == null) {
                continue; // gone already
            }
            if (e.cleanupAt > step) {
                touch(id, e); // kept longer by a later record (or just converted: kept so)
                continue;
            }
            if (e.labelled && !e.labelApplies(horizonMillis)) {
                unmatched.inc();
            }
            remove(id, e);
        }
    }

    /** Marks the event gone: cleared from the backend at the next write. */
    private void remove(String id, EventState e) throws Exception {
        e.gone = true;
        touch(id, e);
    }

    /** The step's list of {@code descriptor}, cleared, and the entries not yet written. */
    private List<String> take(
            ListStateDescriptor<String> descriptor, long step, List<String> pending)
            throws Exception {
        ListState<String> list = getPartitionedState(step, LongSerializer.INSTANCE, descriptor);
        List<String> all = new ArrayList<>();
        Iterable<String> written = list.get();
        if (written != null) {
            written.forEach(all::add);
        }
        list.clear();
        if (pending != null) {
            all.addAll(pending);
        }
        return all;
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) {}

    /**
     * The event's state: on the heap (changed since the last write, or written then), in the
     * backend, or kept by a version before.
     */
    private EventState load(String id) throws Exception {
        EventState e = heap.get(id);
        if (e != null) {
            return e.gone ? null : e;
        }
        if (!stored.mayContain(id)) {
            return null; // never written (the common case for a new prediction)
        }
        byte[] bytes = events.value();
        if (bytes != null) {
            return EventState.decode(bytes);
        }
        Entry old = hasLegacy ? legacy.value() : null;
        if (old == null) {
            return null;
        }
        legacy.clear();
        return converted(id, old);
    }

    /** Keeps a changed event on the heap until the next write. */
    private void touch(String id, EventState e) throws Exception {
        if (!e.dirty) {
            e.dirty = true;
            dirty++;
        }
        heap.put(id, e);
        if (dirty >= MAX_DIRTY) {
            Object key = getCurrentKey();
            write();
            setCurrentKey(key);
        }
    }

    /**
     * Writes the changed events and the new cleanup lists to the state backend. The events written
     * stay on the heap for quick lookups, up to {@value #MAX_CACHED}.
     */
    private void write() throws Exception {
        for (Iterator<Map.Entry<String, EventState>> it = heap.entrySet().iterator();
                it.hasNext(); ) {
            Map.Entry<String, EventState> d = it.next();
            EventState e = d.getValue();
            if (!e.dirty) {
                continue;
            }
            setCurrentKey(d.getKey());
            if (e.gone) {
                events.clear();
                it.remove();
            } else {
                events.update(e.encode());
                stored.add(d.getKey(), e.cleanupAt);
                e.dirty = false;
            }
        }
        stored.written();
        dirty = 0;
        if (heap.size() > MAX_CACHED) {
            heap.clear();
        }
        writeLists(listedPending, listedDescriptor);
        writeLists(cancelledPending, cancelledDescriptor);
    }

    private void writeLists(Map<Slot, List<String>> pending, ListStateDescriptor<String> descriptor)
            throws Exception {
        for (Map.Entry<Slot, List<String>> p : pending.entrySet()) {
            setCurrentKey(stepKey(p.getKey().keyGroup()));
            getPartitionedState(p.getKey().step(), LongSerializer.INSTANCE, descriptor)
                    .addAll(p.getValue());
        }
        pending.clear();
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        joinTimes =
                context.getOperatorStateStore()
                        .getUnionListState(new ListStateDescriptor<>("join-time", Types.LONG));
        learnedSeries =
                context.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>(
                                        "series", TypeInformation.of(LabelSeries.class)));
        known = new HashMap<>(series);
        learned = new ArrayList<>();
        for (LabelSeries s : learnedSeries.get()) {
            if (known.putIfAbsent(s.hash(), s) == null) {
                learned.add(s);
            }
        }
        restoredTime = Long.MIN_VALUE;
        if (context.isRestored()) {
            // The smallest join time of every subtask at the checkpoint: records replayed after it
            // that are older were behind the join's time before the failure too, so the join
            // decides about them (a late duplicate label, a closed window) as it did then.
            long min = Long.MAX_VALUE;
            for (Long t : joinTimes.get()) {
                min = Math.min(min, t);
            }
            restoredTime = min == Long.MAX_VALUE ? Long.MIN_VALUE : min;
        }
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        write();
        joinTimes.update(List.of(joinTime));
        learnedSeries.update(learned);
        super.snapshotState(context);
    }

    /**
     * An event of a version before, as this version keeps it. Its outcomes so far were counted as
     * that version did (predictions opened; expired ones expired; a settled label applied); what it
     * had not counted yet is counted now as this version would. Null when it held neither a
     * prediction nor a label.
     */
    private EventState converted(String id, Entry old) {
        EventState e = new EventState();
        List<AwaitingLabel> waiting = new ArrayList<>(List.of(old.awaiting()));
        waiting.addAll(List.of(old.expired()));
        for (AwaitingLabel a : waiting) {
            e.add(
                    new WaitingPrediction(
                            id,
                            LabelSeries.hash(a.experiment(), a.version(), a.arm()),
                            a.ts(),
                            a.score(),
                            a.unit() == null ? 0 : UnitSketch.hash(a.unit())));
        }
        int awaiting = old.awaiting().length;
        for (int i = 0; i < awaiting; i++) {
            acc(e.series[i], e.ts[i] + horizonMillis).expired++; // not yet expired: in advance
        }
        Label label = old.label();
        if (label != null) {
            if (!old.settled()) {
                for (int i = 0; i < e.n; i++) {
                    count(e, i, NO_LABEL, 0, -1);
                    count(e, i, label.ts(), label.label(), 1);
                }
            }
            e.labelled = true;
            e.labelTs = label.ts();
            e.label = label.label();
            e.matched = old.sawPrediction();
        }
        long until = Long.MIN_VALUE;
        for (int i = 0; i < e.n; i++) {
            until = Math.max(until, e.ts[i] + 2 * horizonMillis);
        }
        if (label != null && e.n == 0) {
            until = label.ts() + horizonMillis;
        }
        if (until == Long.MIN_VALUE) {
            return null; // neither a prediction nor a label: nothing to keep
        }
        schedule(id, e, until);
        return e;
    }

    /** Labels removed without having met a prediction they apply to (metric labelsUnmatched). */
    long unmatchedLabels() {
        return unmatched.getCount();
    }

    /** The join's time: the smaller of its inputs' (see {@link #processWatermark1}). */
    long joinTime() {
        return joinTime;
    }

    /**
     * The predictions' time. The join runs on the smaller of its two inputs' times (see {@link
     * #processWatermarkStatus} for idleness): a prediction expires only once the labels' own time
     * has passed its horizon, whatever order the topics started or paused in, so a job started
     * before its labels (or a labels topic silent for longer than {@code events.idle-timeout})
     * joins the same labels as any other run.
     */
    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        predictionsTime = Math.max(predictionsTime, mark.getTimestamp());
        advance();
    }

    /** The labels' time (see {@link #processWatermark1}). */
    @Override
    public void processWatermark2(Watermark mark) throws Exception {
        labelsTime = Math.max(labelsTime, mark.getTimestamp());
        advance();
    }

    /**
     * Idleness of the predictions is ignored: their time stays where it was (Flink's default would
     * let the labels' time run on alone). The labels' input, once idle (the labels source marks it
     * after {@code labels.idle-timeout} of silence in every partition), stops holding the join's
     * time, which then follows the predictions' alone: a labels topic that stays silent does not
     * keep every prediction waiting for good.
     */
    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int index) throws Exception {
        if (index == 1) {
            labelsIdle = status.isIdle();
            labelsHeld = false;
            advance();
        }
    }

    /**
     * An input that has ended holds no time back. (Its last watermark, the end of time, is not sent
     * again when the join is restored after its source finished, so the end is taken from here.)
     */
    @Override
    public void endInput(int inputId) throws Exception {
        if (inputId == 1) {
            predictionsTime = Long.MAX_VALUE;
        } else {
            labelsTime = Long.MAX_VALUE;
        }
        advance();
    }

    private void advance() throws Exception {
        long time = Math.min(predictionsTime, labelsIdle ? Long.MAX_VALUE : labelsTime);
        if (time > joinTime) {
            joinTime = time;
            processWatermark(new Watermark(time));
        }
    }

    /**
     * Fires the cleanup timers the watermark passes, emits the windows it closes, then passes it
     * on: the windows are complete downstream before the watermark that closes them arrives.
     */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (timeServiceManager != null) {
            timeServiceManager.advanceWatermark(mark);
        }
        stored.advanced(mark.getTimestamp());
        for (Iterator<Acc> it = open.values().iterator(); it.hasNext(); ) {
            Acc acc = it.next();
            if (acc.end - 1 <= mark.getTimestamp()) {
                emit(acc);
                it.remove();
            }
        }
        emittedWatermark = mark.getTimestamp();
        output.emitWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        for (Acc acc : open.values()) {
            emit(acc);
        }
        open.clear();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    private void emit(Acc acc) {
        LabelSeries s = known.get(acc.series);
        if (s == null) {
            unknownSeries.inc();
            return;
        }
        output.collect(new StreamRecord<>(acc.toPartial(s), acc.end - 1));
    }

    /**
     * The counts of a series in the window of {@code at}, or of the first window the watermark has
     * not yet closed.
     */
    private Acc acc(long seriesHash, long at) {
        long time = emittedWatermark == Long.MIN_VALUE ? at : Math.max(at, emittedWatermark + 1);
        long start = Math.floorDiv(time, windowMillis) * windowMillis;
        SeriesWindow key = new SeriesWindow(seriesHash, start);
        Acc acc = open.get(key);
        if (acc == null) {
            acc = new Acc(seriesHash, start, start + windowMillis);
            open.put(key, acc);
        }
        return acc;
    }

    private record SeriesWindow(long series, long start) {}

    /**
     * One event as the join keeps it: its predictions (series hash, time, score, unit hash), its
     * label, whether the label met a prediction it applies to, and the cleanup step it is listed
     * at. Encoded in a byte array (state {@code events}).
     */
    static final class EventState {
        // 1: the prediction count as a short; 2: without the flags of the cleanup entry (a version
        // that reads 2 at most fails on 3 rather than leave events it cannot remove)
        private static final byte FORMAT = 3;

        /** Changed since the last write (heap only). */
        boolean dirty;

        /** Removed: to be cleared from the backend at the next write (heap only). */
        boolean gone;

        int n;
        long[] series = new long[1];
        long[] ts = new long[1];
        float[] score = new float[1];
        long[] unit = new long[1];
        boolean labelled;
        boolean matched;
        long labelTs;
        double label;
        long cleanupAt = Long.MIN_VALUE;

        /** Listed in state {@code cleanup-listed} at {@code cleanupAt} (not a version before's). */
        boolean listed;

        /** The flag it is listed with: its label counted unmatched at the removal. */
        boolean listedUnmatched;

        int add(WaitingPrediction p) {
            if (n == series.length) {
                series = java.util.Arrays.copyOf(series, n * 2);
                ts = java.util.Arrays.copyOf(ts, n * 2);
                score = java.util.Arrays.copyOf(score, n * 2);
                unit = java.util.Arrays.copyOf(unit, n * 2);
            }
            series[n] = p.series();
            ts[n] = p.ts();
            score[n] = p.score();
            unit[n] = p.unit();
            return n++;
        }

        /** Whether the label applies to one of the predictions (joined or late). */
        boolean labelApplies(long horizon) {
            if (matched) {
                return true;
            }
            for (int i = 0; i < n; i++) {
                if (labelTs >= ts[i] - horizon && labelTs <= ts[i] + 2 * horizon) {
                    return true;
                }
            }
            return false;
        }

        byte[] encode() throws IOException {
            DataOutputSerializer out = new DataOutputSerializer(18 + 28 * n + 17);
            out.writeByte(FORMAT);
            out.writeByte(
                    (labelled ? 1 : 0)
                            | (matched ? 2 : 0)
                            | (listed ? 4 : 0)
                            | (listedUnmatched ? 8 : 0));
            out.writeLong(cleanupAt);
            if (labelled) {
                out.writeLong(labelTs);
                out.writeDouble(label);
            }
            out.writeInt(n);
            for (int i = 0; i < n; i++) {
                out.writeLong(series[i]);
                out.writeLong(ts[i]);
                out.writeFloat(score[i]);
                out.writeLong(unit[i]);
            }
            return out.getCopyOfBuffer();
        }

        static EventState decode(byte[] bytes) throws IOException {
            DataInputDeserializer in = new DataInputDeserializer(bytes);
            byte format = in.readByte();
            if (format < 1 || format > FORMAT) {
                throw new IOException("label join state of an unknown format " + format);
            }
            EventState e = new EventState();
            int flags = in.readByte();
            e.labelled = (flags & 1) != 0;
            e.matched = (flags & 2) != 0;
            e.listed = (flags & 4) != 0;
            e.listedUnmatched = (flags & 8) != 0;
            e.cleanupAt = in.readLong();
            if (e.labelled) {
                e.labelTs = in.readLong();
                e.label = in.readDouble();
            }
            int n = format == 1 ? in.readShort() : in.readInt();
            for (int i = 0; i < n; i++) {
                e.add(
                        new WaitingPrediction(
                                null, in.readLong(), in.readLong(), in.readFloat(), in.readLong()));
            }
            return e;
        }
    }

    /**
     * How a version before kept an event (state {@code event}), read only to convert it: its
     * predictions still awaiting a label, those whose horizon passed, its label, whether the label
     * was settled, whether a prediction was seen, and its next timer.
     */
    public record Entry(
            AwaitingLabel[] awaiting,
            AwaitingLabel[] expired,
            Label label,
            boolean settled,
            boolean sawPrediction,
            long timer) {}

    /** Mutable counts of one {@link LabelPartial}. */
    private static final class Acc {
        final long series;
        final long start;
        final long end;
        long opened;
        long joined;
        long expired;
        long late;
        long misclassified;
        double logLossSum;
        double absErrorSum;
        private UnitSketch units; // made on the first joined label: most windows have none
        boolean covered = true;

        Acc(long series, long start, long end) {
            this.series = series;
            this.start = start;
            this.end = end;
        }

        UnitSketch units() {
            if (units == null) {
                units = new UnitSketch();
            }
            return units;
        }

        LabelPartial toPartial(LabelSeries s) {
            return new LabelPartial(
                    s.experiment(),
                    s.model(),
                    s.version(),
                    s.arm(),
                    start,
                    end,
                    opened,
                    joined,
                    expired,
                    late,
                    misclassified,
                    logLossSum,
                    absErrorSum,
                    covered ? units : null);
        }
    }
}
