package io.canaryflow.operators.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.canaryflow.operators.records.Label;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The label join in event time: joined, pending, expired (TTL), late, early, duplicate. */
class LabelJoinOperatorTest {
    static final long WINDOW = 1_000;
    static final long HORIZON = 2_000;
    static final long IDLE_TIMEOUT = 600_000;

    static final long SERIES = LabelSeries.hash("fraud", "v1", "candidate");

    KeyedTwoInputStreamOperatorTestHarness<String, WaitingPrediction, Label, LabelPartial> h;
    long checkpoint;

    static KeyedTwoInputStreamOperatorTestHarness<String, WaitingPrediction, Label, LabelPartial>
            harness() throws Exception {
        return harness(1);
    }

    /** A harness of one subtask, its keys spread over {@code keyGroups} key groups. */
    static KeyedTwoInputStreamOperatorTestHarness<String, WaitingPrediction, Label, LabelPartial>
            harness(int keyGroups) throws Exception {
        return harness(keyGroups, HORIZON);
    }

    static KeyedTwoInputStreamOperatorTestHarness<String, WaitingPrediction, Label, LabelPartial>
            harness(int keyGroups, long horizon) throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new LabelJoinOperator(
                        WINDOW,
                        horizon,
                        0.5,
                        LabelSeries.of(java.util.Map.of("fraud", List.of("fraud", "v1"))),
                        IDLE_TIMEOUT),
                WaitingPrediction::eventId,
                Label::eventId,
                Types.STRING,
                keyGroups,
                1,
                0);
    }

    @BeforeEach
    void open() throws Exception {
        h = harness();
        h.open();
    }

    /** The state entries the backend holds once the join has written its heap at a checkpoint. */
    int stored() throws Exception {
        h.snapshot(++checkpoint, checkpoint);
        var backend = h.getOperator().<String>getKeyedStateBackend();
        if (backend instanceof org.apache.flink.runtime.state.heap.HeapKeyedStateBackend) {
            return h.numKeyedStateEntries();
        }
        int n = 0;
        for (String state : List.of("events", "event")) {
            try (java.util.stream.Stream<String> keys =
                    backend.getKeys(state, org.apache.flink.runtime.state.VoidNamespace.INSTANCE)) {
                n += (int) keys.count();
            }
        }
        return n;
    }

    @AfterEach
    void close() throws Exception {
        h.close();
    }

    static WaitingPrediction prediction(String id, long ts, float score) {
        return new WaitingPrediction(
                id, SERIES, ts, score, io.canaryflow.operators.units.UnitSketch.hash("unit-" + id));
    }

    void predict(String id, long ts, float score) throws Exception {
        h.processElement1(new StreamRecord<>(prediction(id, ts, score), ts));
    }

    void label(String id, double label, long ts) throws Exception {
        h.processElement2(new StreamRecord<>(new Label(id, label, ts), ts));
    }

    void watermark(long t) throws Exception {
        h.processBothWatermarks(new Watermark(t));
    }

    /**
     * More events than the heap keeps after a write: the labels find their predictions in the
     * backend, through the filter of written ids.
     */
    @Test
    void shouldFindPredictionsWrittenAndDroppedFromTheHeap() throws Exception {
        close();
        h = harness();
        h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
        h.setCheckpointStorage(
                new org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage(
                        Integer.MAX_VALUE));
        h.open();
        int n = LabelJoinOperator.MAX_CACHED + 10_000;
        for (int i = 0; i < n; i++) {
            predict("p-" + i, 100, 0.9f);
        }
        h.snapshot(++checkpoint, checkpoint); // written, and the heap cleared
        for (int i = 0; i < n; i++) {
            label("p-" + i, 1, 500);
        }
        watermark(10_000);
        assertThat(window(0).opened()).isEqualTo(n);
        assertThat(window(0).joined()).isEqualTo(n);
        assertThat(window(0).misclassified()).isZero();
    }

    /** Partials emitted so far, summed per window start. */
    List<LabelPartial> windows() {
        List<LabelPartial> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof LabelPartial p) {
                int i = -1;
                for (int k = 0; k < out.size(); k++) {
                    if (out.get(k).windowStart() == p.windowStart()) {
                        i = k;
                    }
                }
                if (i < 0) {
                    out.add(p);
                } else {
                    out.set(i, out.get(i).plus(p));
                }
            }
        }
        out.sort(java.util.Comparator.comparingLong(LabelPartial::windowStart));
        return out;
    }

    LabelPartial window(long start) {
        return windows().stream().filter(p -> p.windowStart() == start).findFirst().orElseThrow();
    }

    /** Misclassified and joined counts of one event labelled twice, in the given order. */
    long[] outcomeOfTwoLabels(boolean earliestFirst, double early, double late) throws Exception {
        close();
        open(); // a fresh operator per order
        predict("a", 100, 0.9f); // predicts fraud
        if (earliestFirst) {
            label("a", early, 400);
            label("a", late, 700);
        } else {
            label("a", late, 700);
            label("a", early, 400);
        }
        watermark(999);
        LabelPartial w = window(0);
        return new long[] {w.joined(), w.misclassified()};
    }

    /**
     * A job started before its labels: no label and no labels' time yet while predictions move
     * their own time far on. No prediction may expire until the labels' time passes its horizon
     * (were the predictions' time alone to expire them, every label would come "late").
     */
    @Test
    void shouldNotExpireAPredictionBeforeTheLabelsTimePassesIt() throws Exception {
        predict("a", 100, 0.9f);
        predict("b", 200, 0.9f);
        h.processWatermark1(new Watermark(60_000));
        assertThat(windows()).isEmpty(); // the join's time has not moved: nothing is known yet
        label("a", 1, 1_500);
        h.processWatermark2(new Watermark(60_000));
        List<LabelPartial> all = windows();
        assertThat(all.stream().mapToLong(LabelPartial::opened).sum()).isEqualTo(2);
        assertThat(all.stream().mapToLong(LabelPartial::joined).sum()).isEqualTo(1);
        assertThat(all.stream().mapToLong(LabelPartial::expired).sum()).isEqualTo(1); // b
        assertThat(all.stream().mapToLong(LabelPartial::late).sum()).isZero();
        assertThat(window(1_000).joined()).isEqualTo(1); // in the window of its label's time
        assertThat(window(2_000).expired()).isEqualTo(1); // b's horizon: 2,200
    }

    /**
     * A labels topic silent for longer than {@code labels.idle-timeout} (the labels source then
     * marks it idle) stops holding the join's time: predictions expire on their own time rather
     * than wait for good; once labels come again, they hold it again.
     */
    @Test
    void shouldLetThePredictionsTimeGoOnAloneWhileTheLabelsAreIdle() throws Exception {
        predict("a", 100, 0.9f);
        h.processWatermark1(new Watermark(60_000));
        assertThat(windows()).isEmpty();
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
        assertThat(window(2_000).expired()).isEqualTo(1); // 100 + H
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.ACTIVE);
        predict("b", 70_000, 0.9f);
        h.processWatermark1(new Watermark(120_000));
        assertThat(windows().stream().mapToLong(LabelPartial::expired).sum())
                .as("b waits for the labels' time")
                .isEqualTo(1);
    }

    /**
     * A labels task resuming after idleness holds its time and stays idle downstream until its
     * watermarks move on; its labels already flow. A label proves the input live: the join waits
     * for the labels' time again instead of expiring predictions on the predictions' time.
     */
    @Test
    void shouldHoldTheJoinsTimeAgainOnceALabelComesAfterIdleness() throws Exception {
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
        label("x", 1, 50_000);
        predict("c", 60_000, 0.9f);
        h.processWatermark1(new Watermark(120_000));
        assertThat(windows()).as("c waits for the labels' time").isEmpty();
    }

    /**
     * A label no newer than the labels' watermarks (a re-sent one, a correction keeping its time)
     * moves no watermark on, so the labels task, idle, never reports itself active again: the hold
     * it puts on the join's time ends once no label has come for twice labels.idle-timeout (the
     * task's own hold, on a clock that stops under back-pressure, and as much again), counted from
     * the last label.
     */
    @Test
    void shouldReleaseTheJoinsTimeAfterTheIdleTimeoutIfTheLabelsStayIdle() throws Exception {
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
        label("x", 1, 50_000);
        predict("c", 60_000, 0.9f);
        h.processWatermark1(new Watermark(120_000));
        h.setProcessingTime(IDLE_TIMEOUT);
        label("y", 1, 50_000); // another old label: the hold goes on from it
        h.setProcessingTime(3 * IDLE_TIMEOUT - 1);
        assertThat(windows()).as("c waits for the labels' time").isEmpty();
        h.setProcessingTime(3 * IDLE_TIMEOUT);
        assertThat(window(62_000).expired()).as("60,000 + H").isEqualTo(1);
    }

    /**
     * The hold a label puts on the join's time ends with the labels' input's next status, not later
     * by the deadline of a hold before it.
     */
    @Test
    void shouldEndAHoldOnlyByItsOwnDeadline() throws Exception {
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
        label("x", 1, 50_000); // a hold until 2 x IDLE_TIMEOUT
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.ACTIVE);
        h.setProcessingTime(IDLE_TIMEOUT / 2);
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
        label("y", 1, 50_000); // a hold until 2.5 x IDLE_TIMEOUT
        predict("c", 60_000, 0.9f);
        h.processWatermark1(new Watermark(120_000));
        h.setProcessingTime(2 * IDLE_TIMEOUT);
        assertThat(windows()).as("held by y's label").isEmpty();
        h.setProcessingTime(IDLE_TIMEOUT * 5 / 2);
        assertThat(window(62_000).expired()).isEqualTo(1);
    }

    /**
     * An active labels input holds the join's time for as long as it is active, a label's hold
     * deadline notwithstanding.
     */
    @Test
    void shouldKeepHoldingTheJoinsTimeWhileTheLabelsAreActive() throws Exception {
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
        label("x", 1, 50_000);
        h.processWatermarkStatus2(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.ACTIVE);
        predict("c", 60_000, 0.9f);
        h.processWatermark1(new Watermark(120_000));
        h.setProcessingTime(10 * IDLE_TIMEOUT);
        assertThat(windows()).isEmpty();
    }

    /**
     * A savepoint restored with another horizon (so another cleanup step): an event listed at a
     * step of the run before, then moved by a prediction, is cancelled at that very step, not at
     * the nearest of this run's. Without it the old entry would remove the event early and count
     * its label unmatched.
     */
    @Test
    void shouldCancelAnEntryAtItsOwnStepAfterARestoreWithAnotherHorizon() throws Exception {
        label("a", 1, 300); // alone: listed at step 3000 (cleanup step 1000)
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot = h.snapshot(1, 1);
        close();
        h = harness(1, 40_000); // cleanup step 2500
        h.initializeState(snapshot);
        h.open();
        predict("a", 1_500, 0.9f); // moves it to step 82,500; its entry at 3000 cancelled
        assertThat(events()).isEqualTo(1);
        watermark(3_500);
        assertThat(events()).isEqualTo(1);
        assertThat(unmatched()).isZero();
        watermark(90_000);
        assertThat(events()).isZero();
        assertThat(unmatched()).isZero();
        assertThat(window(1_000).joined()).isEqualTo(1);
    }

    /**
     * A join restored after its labels source had finished gets no watermark from it again: the end
     * of the input releases the labels' time.
     */
    @Test
    void shouldTakeTheEndOfAnInputAsTheEndOfItsTime() throws Exception {
        predict("a", 100, 0.9f);
        h.processWatermark1(new Watermark(60_000));
        assertThat(windows()).isEmpty();
        h.endInput2();
        assertThat(window(2_000).expired()).isEqualTo(1);
    }

    /**
     * A version a command brought (not configured): its prediction names its series, and the join
     * learns it, through a restore too.
     */
    @Test
    void shouldCountTheOutcomesOfAVersionACommandBroughtThroughARestore() throws Exception {
        LabelSeries v7 = new LabelSeries("fraud", "fraud", "v7", "candidate");
        h.processElement1(
                new StreamRecord<>(new WaitingPrediction("n", v7.hash(), 100, 0.9f, 7, v7), 100));
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot = h.snapshot(1, 1);
        close();
        h = harness();
        h.initializeState(snapshot);
        h.open();
        label("n", 1, 500);
        watermark(999);
        assertThat(window(0).version()).isEqualTo("v7");
        assertThat(window(0).joined()).isEqualTo(1);
    }

    /** Likewise the predictions input idle: a label waits for its prediction's time. */
    @Test
    void shouldKeepALabelWhileThePredictionsInputIsIdle() throws Exception {
        label("a", 1, 500);
        h.processWatermarkStatus1(
                org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus.IDLE);
        h.processWatermark2(new Watermark(60_000));
        predict("a", 400, 0.9f);
        h.processWatermark1(new Watermark(60_000));
        assertThat(windows().stream().mapToLong(LabelPartial::joined).sum()).isEqualTo(1);
    }

    @Test
    void shouldUseTheEarliestOfSeveralLabelsWhateverTheirArrivalOrder() throws Exception {
        // truth at 400 ms: legit (the prediction is wrong); a correction at 700 ms says fraud
        assertThat(outcomeOfTwoLabels(true, 0, 1)).containsExactly(1, 1);
        assertThat(outcomeOfTwoLabels(false, 0, 1)).containsExactly(1, 1);
        // a tie in time: the smaller label, in both orders
        close();
        open();
        predict("b", 100, 0.9f);
        label("b", 1, 400);
        label("b", 0, 400);
        watermark(999);
        assertThat(window(0).misclassified()).isEqualTo(1);
        close();
        open();
        predict("b", 100, 0.9f);
        label("b", 0, 400);
        label("b", 1, 400);
        watermark(999);
        assertThat(window(0).misclassified()).isEqualTo(1);
    }

    @Test
    void shouldNotLetALabelLaterThanTheWatermarkReplaceASettledOne() throws Exception {
        predict("a", 100, 0.9f);
        label("a", 1, 400);
        watermark(500); // settled: joined with label 1, correct
        label("a", 0, 300); // earlier, but later than the watermark allows: a duplicate
        predict("a", 600, 0.9f); // a second scoring of the event (a shadow) meets label 1 too
        watermark(999);
        assertThat(window(0).joined()).isEqualTo(2);
        assertThat(window(0).misclassified()).isZero();
    }

    @Test
    void shouldKeepASettledLabelAcrossARestoreThatResetTheWatermark() throws Exception {
        predict("a", 100, 0.9f);
        label("a", 1, 400);
        watermark(500); // settled: label 1
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot = h.snapshot(1, 1);
        close();
        h = harness();
        h.initializeState(snapshot);
        h.open(); // its watermark starts over: the label's settlement must not
        label("a", 0, 300); // replayed late label: a duplicate still
        predict("a", 600, 0.9f);
        watermark(999);
        assertThat(window(0).joined()).isEqualTo(1);
        assertThat(window(0).misclassified()).isZero();
    }

    @Test
    void shouldDropTheStateOfAPredictionThatCameAfterItsHorizon() throws Exception {
        watermark(5_000);
        predict("a", 100, 0.9f); // its horizon (2,100) passed before it came
        watermark(100_000);
        assertThat(window(5_000).expired()).isEqualTo(1); // the first window still open
        assertThat(stored()).isZero();
    }

    @Test
    void shouldNotKeepStateForALabelFarBeyondEveryLateWindow() throws Exception {
        predict("a", 100, 0.9f);
        watermark(3_000); // expired at 2,100; a late label may come until 4,100
        label("a", 1, 1_000_000);
        watermark(5_000); // the cleanup step of 4,100 (steps of max(window, 2H / 32))
        assertThat(stored()).isZero();
        assertThat(windows().stream().mapToLong(LabelPartial::late).sum()).isZero();
    }

    @Test
    void shouldJoinALabelWithinTheHorizonAndScoreIt() throws Exception {
        predict("a", 100, 0.8f); // predicts fraud; truth fraud: correct
        predict("b", 200, 0.3f); // predicts legit; truth fraud: misclassified
        label("a", 1, 500);
        label("b", 1, 900);
        watermark(999);
        LabelPartial w = window(0);
        assertThat(w.opened()).isEqualTo(2);
        assertThat(w.joined()).isEqualTo(2);
        assertThat(w.misclassified()).isEqualTo(1);
        assertThat(w.logLossSum()).isCloseTo(-Math.log(0.8) - Math.log(0.3), within(1e-6));
        assertThat(w.absErrorSum()).isCloseTo(0.2 + 0.7, within(1e-6));
        assertThat(w.expired()).isZero();
        // joined and nothing left to wait for once the cleanup time (2H, its step) has passed
        watermark(5_000);
        assertThat(stored()).isZero();
    }

    @Test
    void shouldCountAnUnlabelledPredictionAsPendingThenExpiredAtTheHorizonAndALaterLabelAsLate()
            throws Exception {
        predict("a", 100, 0.9f);
        watermark(999);
        LabelPartial first = window(0);
        assertThat(first.opened()).isEqualTo(1);
        assertThat(first.joined() + first.expired()).isZero(); // pending, not correct
        watermark(100 + HORIZON - 1);
        assertThat(windows()).hasSize(1); // nothing resolved yet
        watermark(2_999); // passes 100 + H = 2100
        assertThat(window(2_000).expired()).isEqualTo(1);
        label("a", 1, 3_500); // after the horizon: late, attributed to the prediction's series
        watermark(3_999);
        LabelPartial late = window(3_000);
        assertThat(late.late()).isEqualTo(1);
        assertThat(late.joined()).isZero();
        assertThat(late.version()).isEqualTo("v1");
        // TTL: the event's state is gone 2H after its prediction (at the end of that step)
        watermark(5_000);
        assertThat(stored()).isZero();
        assertThat(h.numEventTimeTimers()).isZero();
    }

    @Test
    void shouldJoinALabelThatArrivesBeforeItsPredictionAndIgnoreADuplicate() throws Exception {
        label("a", 0, 300);
        predict("a", 250, 0.2f);
        label("a", 1, 400); // a second label for the same event: ignored
        watermark(999);
        LabelPartial w = window(0);
        assertThat(w.joined()).isEqualTo(1);
        assertThat(w.misclassified()).isZero();
        assertThat(w.late()).isZero();
    }

    @Test
    void shouldCountALabelAfterTheHorizonThatCameBeforeTheTimerAsExpiredAndLate() throws Exception {
        predict("a", 100, 0.9f);
        label("a", 1, 100 + HORIZON + 1); // the watermark has not yet passed the horizon
        watermark(10_000);
        long expired = windows().stream().mapToLong(LabelPartial::expired).sum();
        long late = windows().stream().mapToLong(LabelPartial::late).sum();
        long joined = windows().stream().mapToLong(LabelPartial::joined).sum();
        assertThat(expired).isEqualTo(1);
        assertThat(late).isEqualTo(1);
        assertThat(joined).isZero();
    }

    @Test
    void shouldDropALabelWhosePredictionNeverComesAfterTheHorizon() throws Exception {
        label("ghost", 1, 100);
        assertThat(stored()).isPositive();
        watermark(3_000); // the cleanup step of 100 + H
        assertThat(stored()).isZero();
        assertThat(windows()).isEmpty();
    }

    @Test
    void shouldPutOutcomesBehindTheWatermarkIntoTheFirstOpenWindowNotAClosedOne() throws Exception {
        predict("a", 100, 0.9f);
        watermark(1_999);
        label("a", 1, 150); // its time is in window 0, long closed downstream
        watermark(2_999);
        assertThat(window(2_000).joined()).isEqualTo(1);
    }

    @Test
    void shouldHandOpenWindowsDownstreamBeforeACheckpointBarrier() throws Exception {
        predict("a", 100, 0.9f);
        predict("b", 100, 0.9f);
        h.prepareSnapshotPreBarrier(1);
        assertThat(window(0).opened()).isEqualTo(2);
        label("a", 1, 200);
        watermark(999);
        List<LabelPartial> parts = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r
                    && ((LabelPartial) r.getValue()).windowStart() == 0) {
                parts.add((LabelPartial) r.getValue());
            }
        }
        assertThat(parts).hasSize(2); // before the barrier, and after it
        assertThat(parts.get(1).opened()).isZero();
        assertThat(parts.get(1).joined()).isEqualTo(1);
    }

    @Test
    void shouldCountEachUnitsLabelsAndMisclassificationsInTheWindowsUnitSketch() throws Exception {
        // three units with 4, 3 and 1 labelled predictions; the first misclassifies 3 of its 4
        String[][] events = {
            {"a1", "ua"},
            {"a2", "ua"},
            {"a3", "ua"},
            {"a4", "ua"},
            {"b1", "ub"},
            {"b2", "ub"},
            {"b3", "ub"},
            {"c1", "uc"}
        };
        for (String[] e : events) {
            h.processElement1(
                    new StreamRecord<>(
                            new WaitingPrediction(
                                    e[0],
                                    SERIES,
                                    100,
                                    0.9f,
                                    io.canaryflow.operators.units.UnitSketch.hash(e[1])),
                            100));
        }
        for (String[] e : events) {
            // fraud predicted (0.9): label 0 misclassifies; a1..a3 are the misclassified ones
            boolean wrong = e[0].equals("a1") || e[0].equals("a2") || e[0].equals("a3");
            label(e[0], wrong ? 0 : 1, 200);
        }
        watermark(999);
        LabelPartial w = window(0);
        assertThat(w.joined()).isEqualTo(8);
        assertThat(w.misclassified()).isEqualTo(3);
        // exact: X = (3, 0, 0), Y = (4, 3, 1), r = 3/8: sum of (X - rY)^2
        double r = 3.0 / 8;
        double exact = Math.pow(3 - r * 4, 2) + Math.pow(0 - r * 3, 2) + Math.pow(0 - r * 1, 2);
        assertThat(
                        w.units()
                                .sumOfSquares(
                                        io.canaryflow.operators.units.UnitSketch.Quantity.ERRORS,
                                        io.canaryflow.operators.units.UnitSketch.Quantity.ATTEMPTS,
                                        r))
                .isCloseTo(exact, org.assertj.core.data.Percentage.withPercentage(1));
    }

    /**
     * A savepoint of the version that kept one value per event ({@link LabelJoinOperator.Entry},
     * state "event"): its event is converted when next touched, what the version before counted is
     * not counted again, and what it had not counted yet is.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "RocksDB {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void shouldConvertTheStateOfAVersionBeforeCountingOnlyWhatItHadNotCounted(boolean rocksDb)
            throws Exception {
        if (rocksDb) {
            close();
            h = harness();
            h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
            h.open();
        }
        var backend = h.getOperator().getKeyedStateBackend();
        org.apache.flink.api.common.state.ValueState<LabelJoinOperator.Entry> old =
                backend.getPartitionedState(
                        org.apache.flink.runtime.state.VoidNamespace.INSTANCE,
                        org.apache.flink.runtime.state.VoidNamespaceSerializer.INSTANCE,
                        new org.apache.flink.api.common.state.ValueStateDescriptor<>(
                                "event",
                                org.apache.flink.api.common.typeinfo.TypeInformation.of(
                                        LabelJoinOperator.Entry.class)));
        AwaitingLabel a =
                new AwaitingLabel("a", "fraud", "fraud", "v1", "candidate", 100, 0.9f, "u");
        backend.setCurrentKey("a");
        old.update(
                new LabelJoinOperator.Entry(
                        new AwaitingLabel[] {a}, new AwaitingLabel[0], null, false, true, 2_100));
        backend.setCurrentKey("b"); // expired before the upgrade: its late label still counts
        old.update(
                new LabelJoinOperator.Entry(
                        new AwaitingLabel[0],
                        new AwaitingLabel[] {
                            new AwaitingLabel(
                                    "b", "fraud", "fraud", "v1", "candidate", 100, 0.9f, "u")
                        },
                        null,
                        false,
                        true,
                        4_100));
        // as a savepoint of that version brings it
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot = h.snapshot(1, 1);
        close();
        h = harness();
        if (rocksDb) {
            h.setStateBackend(new org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend());
        }
        h.initializeState(snapshot);
        h.open();
        label("a", 1, 500);
        label("b", 1, 3_000);
        watermark(10_000);
        List<LabelPartial> all = windows();
        assertThat(all.stream().mapToLong(LabelPartial::opened).sum()).isZero(); // counted before
        assertThat(window(0).joined()).isEqualTo(1);
        assertThat(window(0).misclassified()).isZero();
        assertThat(all.stream().mapToLong(LabelPartial::expired).sum()).isZero(); // a joined
        assertThat(window(3_000).late()).isEqualTo(1); // b
        assertThat(window(3_000).version()).isEqualTo("v1");
        var restored = h.getOperator().getKeyedStateBackend();
        restored.setCurrentKey("a");
        assertThat(
                        restored.getPartitionedState(
                                        org.apache.flink.runtime.state.VoidNamespace.INSTANCE,
                                        org.apache.flink.runtime.state.VoidNamespaceSerializer
                                                .INSTANCE,
                                        new org.apache.flink.api.common.state
                                                .ValueStateDescriptor<>(
                                                "event",
                                                org.apache.flink.api.common.typeinfo.TypeInformation
                                                        .of(LabelJoinOperator.Entry.class)))
                                .value())
                .isNull();
        assertThat(stored()).isZero(); // both cleaned up at 2H
    }

    /** The events the backend holds after a checkpoint (not the cleanup lists). */
    long events() throws Exception {
        h.snapshot(++checkpoint, checkpoint);
        try (java.util.stream.Stream<String> keys =
                h.getOperator()
                        .<String>getKeyedStateBackend()
                        .getKeys("events", org.apache.flink.runtime.state.VoidNamespace.INSTANCE)) {
            return keys.count();
        }
    }

    long unmatched() {
        return ((LabelJoinOperator) h.getOperator()).unmatchedLabels();
    }

    /**
     * A label before its prediction is listed for removal at its own horizon; the prediction moves
     * the event to a later step. The removal reads no event, so the earlier entry must be
     * cancelled: without it the event would go at the label's step and its label count unmatched.
     */
    @Test
    void shouldKeepAnEventAPredictionMovedToALaterCleanupStep() throws Exception {
        label("a", 1, 300); // alone: listed for 300 + H, step 3000
        predict("a", 1_500, 0.9f); // moves it to 1500 + 2H, step 6000
        assertThat(events()).isEqualTo(1); // the lists written too
        watermark(3_500);
        assertThat(events()).isEqualTo(1);
        assertThat(unmatched()).isZero();
        watermark(6_000);
        assertThat(events()).isZero();
        assertThat(unmatched()).isZero();
        assertThat(window(1_000).joined()).isEqualTo(1);
    }

    /**
     * Whether an event's label is unmatched changes back and forth at the same step: an earlier
     * label that fits no prediction replaces one that did, then another prediction fits it. Each
     * entry is cancelled once; the event goes once, matched.
     */
    @Test
    void shouldRemoveAnEventOnceWithTheFlagItEndsWith() throws Exception {
        predict("a", 3_000, 0.9f); // step 8000, no label
        label("a", 1, 2_500); // fits
        assertThat(events()).isEqualTo(1);
        label("a", 1, 500); // earlier, fits no prediction (before 3000 - H)
        predict("a", 2_000, 0.9f); // fits 500; its own step (7000) is earlier: the step stays
        watermark(7_500);
        assertThat(events()).isEqualTo(1);
        watermark(8_000);
        assertThat(events()).isZero();
        assertThat(unmatched()).isZero();
    }

    /**
     * A label that no prediction fits counts unmatched once: alone, or beside predictions that came
     * before or after it.
     */
    @Test
    void shouldCountALabelThatNoPredictionFitsAsUnmatchedOnce() throws Exception {
        label("alone", 1, 300);
        label("early", 1, 400);
        predict("early", 3_000, 0.9f); // 400 is before 3000 - H
        predict("after", 3_000, 0.9f);
        label("after", 1, 450); // comes after its prediction, fits it no more than early's
        predict("fits", 100, 0.9f);
        label("fits", 1, 500);
        watermark(20_000);
        assertThat(events()).isZero();
        assertThat(unmatched()).isEqualTo(3);
    }

    /**
     * A checkpoint of the version that listed ids alone (state "cleanup"; made with its code, heap
     * backend: a at 100; b a label alone at 300; c labelled at 200, predicted at 250, listed at two
     * steps; d predicted at 100, labelled at 500; e labelled at 400, predicted at 3000 so that the
     * label fits no prediction; watermark 999). Its events are still found, its lists still remove
     * them, and the unmatched labels (b, e) are counted once each.
     */
    @Test
    void shouldRemoveTheEventsAVersionBeforeListedByIdsAlone() throws Exception {
        close();
        h = harness();
        h.initializeState(
                org.apache.flink.streaming.util.OperatorSnapshotUtil.readStateHandle(
                        java.util.Objects.requireNonNull(
                                        getClass().getResource("label-join-cleanup-lists.snapshot"))
                                .getPath()));
        h.open();
        assertThat(events()).isEqualTo(5);
        label("a", 1, 1_500); // a prediction of the checkpoint, joined now
        predict("f", 1_200, 0.9f); // listed by this version
        watermark(3_500); // b's step
        assertThat(unmatched()).isEqualTo(1);
        assertThat(window(1_000).joined()).isEqualTo(1);
        assertThat(events()).isEqualTo(5); // a, c, d, e, f
        watermark(20_000);
        assertThat(events()).isZero();
        assertThat(unmatched()).isEqualTo(2);
    }

    /**
     * Times before 1970 are times like any other: listed, written and removed (no hang), in key
     * groups other than the first too.
     */
    @Test
    void shouldListAndRemoveEventsOfTimesBefore1970() throws Exception {
        close();
        h = harness(128);
        h.open();
        for (int i = 0; i < 20; i++) {
            predict("old-" + i, -3 * HORIZON - 500, 0.9f); // listed at step -2000
        }
        org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(60), () -> assertThat(events()).isEqualTo(20));
        watermark(-2_000);
        assertThat(events()).isZero();
    }
}
