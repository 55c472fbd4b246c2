package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.units.UnitSketch;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.VoidNamespace;
import org.apache.flink.runtime.state.VoidNamespaceSerializer;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.InternalTimer;
import org.apache.flink.streaming.api.operators.InternalTimerService;
import org.apache.flink.streaming.api.operators.Triggerable;
import org.apache.flink.streaming.api.operators.TwoInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Joins predictions with their late labels by {@code event_id} in event time, keyed by event id on
 * both inputs, and counts the outcomes per (experiment, version, arm, window) on the heap, emitted
 * as {@link LabelPartial}s when the watermark passes a window and before every checkpoint barrier
 * (like {@link LocalMonitorOperator}, so outcomes are never counted twice after a recovery).
 *
 * <p>With label horizon {@code H}, a prediction at time {@code t}:
 *
 * <ul>
 *   <li>is <em>joined</em> if its label's time is at most {@code t + H} (a label may also come
 *       before its prediction: it waits in state up to {@code H} for it);
 *   <li>is <em>pending</em> until then: it waits in keyed state and is not counted as correct;
 *   <li><em>expires</em> when the watermark passes {@code t + H} without a label; a label arriving
 *       later, up to {@code t + 2H}, is counted as <em>late</em> for the prediction's version
 *       (after that its state is gone and the label counts in metric {@code labelsUnmatched}).
 * </ul>
 *
 * State is one value per event id, kept for at most {@code 2H} of event time after its last
 * prediction (until {@code t + H} once its label has come): the state TTL is the label horizon,
 * implemented with event-time timers rather than Flink's processing-time state TTL so that replays
 * and recoveries decide identically. A labelled event costs two timers (its horizon, and its
 * label's time), an unlabelled one two.
 *
 * <p>An event has one label: when several arrive, the one with the earliest {@code ts} (on a tie,
 * the smallest value) is used whatever their arrival order, because a prediction's label is applied
 * only once the watermark has passed the label's time, when every label of that time or earlier has
 * arrived (a label later than {@code events.max-out-of-orderness} excepted). Every other label of
 * the event counts in {@code labelsDuplicate}.
 */
public class LabelJoinOperator extends AbstractStreamOperator<LabelPartial>
        implements TwoInputStreamOperator<AwaitingLabel, Label, LabelPartial>,
                Triggerable<String, VoidNamespace> {
    private static final long serialVersionUID = 1L;

    private final long windowMillis;
    private final long horizonMillis;
    private final double threshold;

    /**
     * Everything the join keeps of one event, in one state value (one read and one write per
     * record): its predictions still awaiting a label, those whose horizon passed (kept for late
     * labels), its label once known and whether it is settled (applied: no other label can replace
     * it; kept in state, not inferred from the watermark, which a restore resets), whether a
     * prediction was seen, and the event time at which its timer fires next.
     */
    public record Entry(
            AwaitingLabel[] awaiting,
            AwaitingLabel[] expired,
            Label label,
            boolean settled,
            boolean sawPrediction,
            long timer) {}

    private static final AwaitingLabel[] NONE = new AwaitingLabel[0];

    private transient ValueState<Entry> state;
    private transient InternalTimerService<VoidNamespace> timers;
    private transient Map<String, Acc> open;
    private transient long emittedWatermark;
    private transient Counter duplicates;
    private transient Counter unmatched;

    /**
     * @param windowMillis the length of the buckets outcomes are counted in: the monitoring window,
     *     or its slide when windows slide
     * @param threshold a score at or above it predicts the positive class; a label at or above 0.5
     *     is the positive class
     */
    public LabelJoinOperator(long windowMillis, long horizonMillis, double threshold) {
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
    }

    @Override
    public void open() throws Exception {
        super.open();
        state =
                getPartitionedState(
                        new ValueStateDescriptor<>("event", TypeInformation.of(Entry.class)));
        timers = getInternalTimerService("label-horizon", VoidNamespaceSerializer.INSTANCE, this);
        open = new HashMap<>();
        emittedWatermark = Long.MIN_VALUE;
        duplicates = getMetricGroup().addGroup("canaryflow").counter("labelsDuplicate");
        unmatched = getMetricGroup().addGroup("canaryflow").counter("labelsUnmatched");
    }

    @Override
    public void processElement1(StreamRecord<AwaitingLabel> element) throws Exception {
        AwaitingLabel a = element.getValue();
        Entry e = state.value();
        acc(a, a.ts()).opened++;
        AwaitingLabel[] awaiting = e == null ? NONE : e.awaiting();
        AwaitingLabel[] expired = e == null ? NONE : e.expired();
        Label label = e == null ? null : e.label();
        boolean settled = e != null && e.settled();
        long watermark = timers.currentWatermark();
        long timer = e == null ? Long.MAX_VALUE : e.timer();
        // every prediction keeps its event's state until at least its horizon
        timer = schedule(timer, a.ts() + horizonMillis);
        if (label != null && (settled || label.ts() <= watermark)) {
            resolve(a, label); // settled: no earlier label can still come
            settled = true;
        } else if (a.ts() + horizonMillis <= watermark && label == null) {
            acc(a, a.ts() + horizonMillis).expired++;
            expired = append(expired, a);
        } else {
            awaiting = append(awaiting, a);
            if (label != null) {
                timer = schedule(timer, label.ts());
            }
        }
        state.update(new Entry(awaiting, expired, label, settled, true, timer));
    }

    @Override
    public void processElement2(StreamRecord<Label> element) throws Exception {
        Label label = element.getValue();
        Entry e = state.value();
        long watermark = timers.currentWatermark();
        if (e == null) {
            // ahead of its prediction: it waits one horizon for it
            long timer = label.ts() + horizonMillis;
            timers.registerEventTimeTimer(VoidNamespace.INSTANCE, timer);
            state.update(new Entry(NONE, NONE, label, false, false, timer));
            return;
        }
        Label held = e.label();
        if (held != null) {
            // One label per event: the earliest, whatever the arrival order. Once the held one is
            // settled (applied, or the watermark passed its time), a later arrival is a duplicate.
            duplicates.inc();
            if (e.settled() || held.ts() <= watermark || !earlier(label, held)) {
                return;
            }
        }
        if (label.ts() <= watermark) {
            settle(e.awaiting(), e.expired(), label);
            state.update(new Entry(NONE, NONE, label, true, e.sawPrediction(), e.timer()));
            return;
        }
        // Resolved when the watermark passes the label's time, so that an earlier label of the
        // same event, still in flight from another partition, can take its place.
        long timer = e.timer();
        if (e.awaiting().length > 0 || e.expired().length > 0) {
            timer = schedule(timer, label.ts());
        }
        state.update(new Entry(e.awaiting(), e.expired(), label, false, e.sawPrediction(), timer));
    }

    /** Whether {@code a} wins over {@code b}: the earlier, and on a tie the smaller label. */
    private static boolean earlier(Label a, Label b) {
        return a.ts() != b.ts() ? a.ts() < b.ts() : Double.compare(a.label(), b.label()) < 0;
    }

    /** Registers a timer at {@code due} if it is earlier than {@code timer}; the earlier one. */
    private long schedule(long timer, long due) {
        if (due < timer) {
            timers.registerEventTimeTimer(VoidNamespace.INSTANCE, due);
            return due;
        }
        return timer;
    }

    /** Applies the event's label to every prediction still waiting or expired. */
    private void settle(AwaitingLabel[] awaiting, AwaitingLabel[] expired, Label label) {
        for (AwaitingLabel a : awaiting) {
            resolve(a, label);
        }
        for (AwaitingLabel a : expired) {
            acc(a, label.ts()).late++;
        }
    }

    private void resolve(AwaitingLabel a, Label label) {
        if (label.ts() <= a.ts() + horizonMillis) {
            Acc acc = acc(a, Math.max(a.ts(), label.ts()));
            acc.joined++;
            boolean positive = label.label() >= 0.5;
            boolean wrong = (a.score() >= threshold) != positive;
            if (wrong) {
                acc.misclassified++;
            }
            if (a.unit() == null) {
                acc.covered = false; // waiting since before units were kept
            } else {
                acc.units.add(UnitSketch.hash(a.unit()), 1, wrong ? 1 : 0, 0, 0, 0);
            }
            double p = Math.min(1 - 1e-15, Math.max(1e-15, a.score()));
            acc.logLossSum += -(positive ? Math.log(p) : Math.log1p(-p));
            acc.absErrorSum += Math.abs(label.label() - a.score());
        } else {
            acc(a, a.ts() + horizonMillis).expired++;
            acc(a, label.ts()).late++;
        }
    }

    /**
     * Settles the event's label once the watermark reaches its time, and expires the predictions
     * whose horizon {@code t} reaches. What remains decides what happens next: predictions still
     * waiting get a timer at the earliest horizon (or their label's time); expired ones without a
     * label are kept one more horizon for late labels; otherwise the event's state is dropped (a
     * label that never met its prediction counts as unmatched).
     */
    @Override
    public void onEventTime(InternalTimer<String, VoidNamespace> timer) throws Exception {
        long t = timer.getTimestamp();
        Entry e = state.value();
        if (e == null || t != e.timer()) {
            return; // superseded by an earlier timer of the same event
        }
        AwaitingLabel[] awaiting = e.awaiting();
        AwaitingLabel[] expired = e.expired();
        boolean settled = e.settled();
        long next = Long.MAX_VALUE;
        if (e.label() != null && !settled && e.label().ts() <= t) {
            for (AwaitingLabel a : awaiting) {
                next = Math.min(next, a.ts() + horizonMillis); // keep the label for duplicates
            }
            settle(awaiting, expired, e.label());
            awaiting = NONE;
            expired = NONE;
            settled = true;
            next = next > t ? next : Long.MAX_VALUE;
        }
        List<AwaitingLabel> still = new ArrayList<>();
        for (AwaitingLabel a : awaiting) {
            if (a.ts() + horizonMillis <= t) {
                acc(a, a.ts() + horizonMillis).expired++;
                expired = append(expired, a);
            } else {
                still.add(a);
                next = Math.min(next, a.ts() + horizonMillis);
            }
        }
        // Expired predictions wait one more horizon for a late label; a label not yet settled
        // is applied at its time, but never later than that.
        long lateEnd = Long.MIN_VALUE;
        for (AwaitingLabel a : expired) {
            lateEnd = Math.max(lateEnd, a.ts() + 2 * horizonMillis);
        }
        if (expired.length > 0 && lateEnd > t) {
            next = Math.min(next, lateEnd);
        }
        boolean waiting = !still.isEmpty() || (expired.length > 0 && lateEnd > t);
        if (e.label() != null && !settled && waiting) {
            next = Math.min(next, e.label().ts());
        }
        if (next == Long.MAX_VALUE) {
            if (e.label() != null && (!e.sawPrediction() || !settled)) {
                unmatched.inc(); // never met a prediction, or came after every late window
            }
            state.clear();
            return;
        }
        timers.registerEventTimeTimer(VoidNamespace.INSTANCE, next);
        state.update(
                new Entry(
                        still.toArray(AwaitingLabel[]::new),
                        expired,
                        e.label(),
                        settled,
                        e.sawPrediction(),
                        next));
    }

    private static AwaitingLabel[] append(AwaitingLabel[] items, AwaitingLabel a) {
        AwaitingLabel[] out = java.util.Arrays.copyOf(items, items.length + 1);
        out[items.length] = a;
        return out;
    }

    @Override
    public void onProcessingTime(InternalTimer<String, VoidNamespace> timer) {}

    /**
     * Fires the timers the watermark passes, emits the windows it closes, then passes it on: the
     * windows are complete downstream before the watermark that closes them arrives.
     */
    @Override
    public void processWatermark(Watermark mark) throws Exception {
        if (timeServiceManager != null) {
            timeServiceManager.advanceWatermark(mark);
        }
        for (Iterator<Acc> it = open.values().iterator(); it.hasNext(); ) {
            Acc acc = it.next();
            if (acc.end - 1 <= mark.getTimestamp()) {
                output.collect(new StreamRecord<>(acc.toPartial(), acc.end - 1));
                it.remove();
            }
        }
        emittedWatermark = mark.getTimestamp();
        output.emitWatermark(mark);
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        for (Acc acc : open.values()) {
            output.collect(new StreamRecord<>(acc.toPartial(), acc.end - 1));
        }
        open.clear();
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    /**
     * The counts of {@code a}'s series in the window of {@code at}, or of the first window the
     * watermark has not yet closed.
     */
    private Acc acc(AwaitingLabel a, long at) {
        long time = emittedWatermark == Long.MIN_VALUE ? at : Math.max(at, emittedWatermark + 1);
        long start = Math.floorDiv(time, windowMillis) * windowMillis;
        String key = a.seriesKey() + '\u0000' + start;
        Acc acc = open.get(key);
        if (acc == null) {
            acc = new Acc(a, start, start + windowMillis);
            open.put(key, acc);
        }
        return acc;
    }

    /** Mutable counts of one {@link LabelPartial}. */
    private static final class Acc {
        final AwaitingLabel series;
        final long start;
        final long end;
        long opened;
        long joined;
        long expired;
        long late;
        long misclassified;
        double logLossSum;
        double absErrorSum;
        final UnitSketch units = new UnitSketch();
        boolean covered = true;

        Acc(AwaitingLabel series, long start, long end) {
            this.series = series;
            this.start = start;
            this.end = end;
        }

        LabelPartial toPartial() {
            return new LabelPartial(
                    series.experiment(),
                    series.model(),
                    series.version(),
                    series.arm(),
                    start,
                    end,
                    opened,
                    joined,
                    expired,
                    late,
                    misclassified,
                    logLossSum,
                    absErrorSum,
                    covered && joined > 0 ? units : null);
        }
    }
}
