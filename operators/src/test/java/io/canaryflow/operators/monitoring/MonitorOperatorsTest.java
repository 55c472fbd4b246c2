package io.canaryflow.operators.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.drift.DriftMeasures;
import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.records.Prediction;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MonitorOperatorsTest {
    @TempDir static Path repo;
    static ModelRepository repository;
    static final Map<String, ExperimentSchema> SCHEMAS =
            Map.of(
                    "fraud",
                    new ExperimentSchema("fraud", DemoModels.MODEL, SyntheticFraud.FEATURES));
    static final DriftMeasures.Thresholds THRESHOLDS =
            new DriftMeasures.Thresholds(0.1, 0.25, 5, 1e-4);

    @BeforeAll
    static void models() throws Exception {
        DemoModels.generate(repo, 1, 3_000, 1_000);
        repository = ModelRepository.at(repo.toString());
    }

    static final Map<String, String> SHARED = Map.of("fraud", DemoModels.BASELINE);

    static MonitorSettings settings(long windowMillis) {
        return MonitorSettings.defaults(windowMillis).withDrift(THRESHOLDS);
    }

    static LocalMonitorOperator local(long windowMillis) {
        return new LocalMonitorOperator(repository, SCHEMAS, SHARED, settings(windowMillis));
    }

    static LocalMonitorOperator local(long windowMillis, double sampleRate) {
        MonitorSettings d = settings(windowMillis);
        return new LocalMonitorOperator(
                repository,
                SCHEMAS,
                SHARED,
                new MonitorSettings(
                        d.windowMillis(),
                        d.slideMillis(),
                        sampleRate,
                        d.timeoutMicros(),
                        d.drift(),
                        d.errorRate(),
                        d.latencyP99Micros(),
                        d.labelError(),
                        d.labelThreshold(),
                        d.segmentFields(),
                        d.maxSegmentValues(),
                        d.falseDiscoveryRate()));
    }

    /** The merge stage in a keyed harness. */
    static KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> merge(
            MonitorSettings settings) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(
                        new WindowMergeFunction(repository, SCHEMAS, SHARED, settings)),
                MonitorPartial::experiment,
                Types.STRING);
    }

    final SyntheticFraud data = new SyntheticFraud(8);

    Prediction prediction(long ts, Arm arm) {
        double[] row = data.next().features();
        float[] f = new float[row.length];
        for (int i = 0; i < row.length; i++) {
            f[i] = (float) row[i];
        }
        return new Prediction(
                "e-" + ts,
                "u",
                "fraud",
                DemoModels.MODEL,
                DemoModels.BASELINE,
                arm,
                true,
                0.1f,
                new float[] {0.9f, 0.1f},
                ts,
                ts,
                1_000,
                "p",
                1,
                null,
                f,
                Map.of(),
                null);
    }

    static List<WindowPartial> partials(
            OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h) {
        List<WindowPartial> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((WindowPartial) r.getValue());
            }
        }
        return out;
    }

    @Test
    void shouldEmitAWindowOnlyOnceTheWatermarkPassesItsEndAndDropLaterEventsAsLate()
            throws Exception {
        LocalMonitorOperator operator = local(1_000);
        try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                new OneInputStreamOperatorTestHarness<>(operator)) {
            h.open();
            for (long ts = 0; ts < 2_000; ts += 100) {
                h.processElement(prediction(ts, ts % 200 == 0 ? Arm.BASELINE : Arm.CANDIDATE), ts);
            }
            assertThat(operator.openWindows()).isEqualTo(4); // 2 windows x 2 arms
            h.processWatermark(new Watermark(998));
            assertThat(partials(h)).isEmpty();
            h.processWatermark(new Watermark(999));
            List<WindowPartial> first = partials(h);
            assertThat(first)
                    .hasSize(2)
                    .allSatisfy(
                            p -> {
                                assertThat(p.windowStart()).isZero();
                                assertThat(p.windowEnd()).isEqualTo(1_000);
                                assertThat(p.count()).isEqualTo(5);
                                assertThat(java.util.Arrays.stream(p.featureCounts()[1]).sum())
                                        .isEqualTo(5);
                            });
            assertThat(first)
                    .extracting(WindowPartial::arm)
                    .containsExactlyInAnyOrder("baseline", "candidate");
            // The partials precede the watermark, so the merge downstream has them when it fires.
            assertThat(h.getOutput().toArray()[h.getOutput().size() - 1])
                    .isEqualTo(new Watermark(999));

            h.processElement(prediction(500, Arm.BASELINE), 500); // its window is gone: late
            assertThat(operator.openWindows()).isEqualTo(2);
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(partials(h)).hasSize(4);
            assertThat(partials(h).stream().mapToLong(WindowPartial::count).sum()).isEqualTo(20);
            // counted as late in the first window still open of its series, and nowhere else
            assertThat(partials(h))
                    .filteredOn(p -> p.late() > 0)
                    .singleElement()
                    .satisfies(
                            p -> {
                                assertThat(p.late()).isEqualTo(1);
                                assertThat(p.windowStart()).isEqualTo(1_000);
                                assertThat(p.arm()).isEqualTo("baseline");
                            });
            assertThat(operator.openWindows()).isZero();
        }
    }

    @Test
    void shouldNotReportAWindowAgainAfterARestoreThatResetTheWatermark() throws Exception {
        List<WindowPartial> parts = new ArrayList<>();
        try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                new OneInputStreamOperatorTestHarness<>(local(1_000))) {
            h.open();
            for (long ts = 0; ts < 1_000; ts += 100) {
                h.processElement(prediction(ts, Arm.CONTROL), ts);
            }
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            parts.addAll(partials(h));
        }
        org.apache.flink.runtime.checkpoint.OperatorSubtaskState snapshot;
        try (KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> h =
                merge(settings(1_000))) {
            h.open();
            h.processElement(MonitorPartial.of(parts.get(0)), 999);
            h.processWatermark(new Watermark(1_500));
            assertThat(h.extractOutputValues()).hasSize(1);
            snapshot = h.snapshot(1, 1);
        }
        try (KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> h =
                merge(settings(1_000))) {
            h.initializeState(snapshot);
            h.open(); // restored: its watermark starts over at the beginning of time
            // a replayed partial of the reported window: late, counted in the open window
            h.processElement(MonitorPartial.of(parts.get(0)), 999);
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            List<MonitoringRecord> out = h.extractOutputValues();
            assertThat(out)
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.windowStart()).isEqualTo(1_000);
                                assertThat(r.count()).isZero();
                                assertThat(r.late()).isEqualTo(10);
                            });
        }
    }

    @Test
    void shouldCountAPartialThatComesAfterItsWindowWasReportedAsLateInTheOpenWindowNotTwice()
            throws Exception {
        List<WindowPartial> parts = new ArrayList<>();
        for (int subtask = 0; subtask < 2; subtask++) {
            try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                    new OneInputStreamOperatorTestHarness<>(local(1_000))) {
                h.open();
                for (long ts = 0; ts < 1_000; ts += 100) {
                    h.processElement(prediction(ts, Arm.CONTROL), ts);
                }
                h.processElement(prediction(1_500, Arm.CONTROL), 1_500);
                h.processWatermark(new Watermark(Long.MAX_VALUE));
                List<WindowPartial> windows = partials(h);
                windows.sort(java.util.Comparator.comparingLong(WindowPartial::windowStart));
                parts.addAll(windows);
            }
        }
        try (KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> h =
                merge(settings(1_000))) {
            h.open();
            h.processElement(MonitorPartial.of(parts.get(0)), 999); // window 0, first subtask
            h.processElement(MonitorPartial.of(parts.get(1)), 1_999); // window 1000
            h.processWatermark(new Watermark(1_200)); // the second subtask was idle meanwhile
            assertThat(h.extractOutputValues())
                    .singleElement()
                    .extracting(MonitoringRecord::count)
                    .isEqualTo(10L);
            // the second subtask comes back with window 0: late, counted in window 1000
            h.processElement(MonitorPartial.of(parts.get(2)), 999);
            h.processElement(MonitorPartial.of(parts.get(3)), 1_999);
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            List<MonitoringRecord> out = h.extractOutputValues();
            assertThat(out).hasSize(2);
            assertThat(out.get(0).windowStart()).isZero();
            assertThat(out.get(1).windowStart()).isEqualTo(1_000);
            assertThat(out.get(1).count()).isEqualTo(2);
            assertThat(out.get(1).late()).isEqualTo(10);
            assertThat(out.get(1).errors().attempts()).isEqualTo(2);
        }
    }

    @Test
    void shouldAddUpPartialsOfAWindowAndReportWhenItsTimerFiresKeepingNoState() throws Exception {
        LocalMonitorOperator a = local(1_000);
        LocalMonitorOperator b = local(1_000);
        List<WindowPartial> parts = new ArrayList<>();
        for (LocalMonitorOperator op : List.of(a, b)) {
            try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                    new OneInputStreamOperatorTestHarness<>(op)) {
                h.open();
                for (long ts = 0; ts < 1_000; ts += 50) {
                    h.processElement(prediction(ts, Arm.CONTROL), ts);
                }
                h.processWatermark(new Watermark(Long.MAX_VALUE));
                parts.addAll(partials(h));
            }
        }
        assertThat(parts).hasSize(2);

        try (KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> h =
                merge(settings(1_000))) {
            h.open();
            h.processElement(MonitorPartial.of(parts.get(0)), 999);
            h.processElement(MonitorPartial.of(parts.get(1)), 999);
            assertThat(h.numEventTimeTimers()).isEqualTo(1);
            assertThat(h.numKeyedStateEntries()).isEqualTo(1);
            h.processWatermark(new Watermark(998));
            assertThat(h.extractOutputValues()).isEmpty();
            h.processWatermark(new Watermark(999));
            List<MonitoringRecord> out = h.extractOutputValues();
            assertThat(out)
                    .singleElement()
                    .satisfies(
                            r -> {
                                assertThat(r.count()).isEqualTo(40);
                                assertThat(r.arm()).isEqualTo("control");
                                assertThat(r.featureNames())
                                        .containsExactlyElementsOf(SyntheticFraud.FEATURES);
                                assertThat(r.featureDrift())
                                        .allSatisfy(d -> assertThat(d.n()).isEqualTo(40));
                                assertThat(r.scoreDrift().n()).isEqualTo(40);
                                assertThat(r.latencyP99Us()).isEqualTo(1_000);
                                assertThat(r.errors().attempts()).isEqualTo(40);
                                assertThat(r.errors().rate()).isZero();
                                assertThat(r.labels()).isNull();
                            });
            // only what was reported through stays: one mark per experiment
            assertThat(h.numKeyedStateEntries()).isEqualTo(1);
            assertThat(h.numEventTimeTimers()).isZero();
        }
    }

    @Test
    void shouldReportAWindowWithTooFewObservationsAsInsufficient() throws Exception {
        LocalMonitorOperator op = local(1_000);
        WindowPartial partial;
        try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                new OneInputStreamOperatorTestHarness<>(op)) {
            h.open();
            h.processElement(prediction(10, Arm.SHADOW), 10);
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            partial = partials(h).get(0);
        }
        MonitorReferences.Version references =
                new MonitorReferences(repository, SCHEMAS, SHARED)
                        .of("fraud", DemoModels.MODEL, DemoModels.BASELINE);
        MonitoringRecord r =
                WindowReports.report(partial, null, references, settings(1_000), 0, -1);
        assertThat(r.count()).isEqualTo(1);
        assertThat(r.errors().level()).isEqualTo(DriftMeasures.Level.INSUFFICIENT);
        assertThat(r.labels()).isNull(); // label outcomes come in label reports
        MonitoringRecord.Labels labels =
                WindowReports.labelReport(
                                LabelPartial.empty(
                                        "fraud",
                                        DemoModels.MODEL,
                                        DemoModels.BASELINE,
                                        "shadow",
                                        0,
                                        1_000),
                                0,
                                references,
                                settings(1_000),
                                0)
                        .labels();
        assertThat(labels.level()).isEqualTo(DriftMeasures.Level.INSUFFICIENT);
        assertThat(labels.errorRate()).isNaN();
        assertThat(r.featureDrift())
                .allSatisfy(
                        d -> {
                            assertThat(d.level()).isEqualTo(DriftMeasures.Level.INSUFFICIENT);
                            assertThat(d.psi()).isNaN();
                        });
    }

    @Test
    void shouldSampleFeaturesByEventIdButCountEveryPrediction() throws Exception {
        long[] sampled = new long[2];
        for (int run = 0; run < 2; run++) {
            SyntheticFraud replay = new SyntheticFraud(31);
            LocalMonitorOperator op = local(100_000, 0.25);
            try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                    new OneInputStreamOperatorTestHarness<>(op)) {
                h.open();
                for (long ts = 0; ts < 4_000; ts++) {
                    double[] row = replay.next().features();
                    float[] f = new float[row.length];
                    for (int i = 0; i < row.length; i++) {
                        f[i] = (float) row[i];
                    }
                    h.processElement(
                            new Prediction(
                                    "event-" + ts,
                                    "u",
                                    "fraud",
                                    DemoModels.MODEL,
                                    DemoModels.BASELINE,
                                    Arm.BASELINE,
                                    true,
                                    0.1f,
                                    new float[] {0.9f, 0.1f},
                                    ts,
                                    ts,
                                    10,
                                    "p",
                                    1,
                                    null,
                                    f,
                                    Map.of(),
                                    null),
                            ts);
                }
                h.processWatermark(new Watermark(Long.MAX_VALUE));
                WindowPartial p = partials(h).get(0);
                assertThat(p.count()).isEqualTo(4_000);
                assertThat(java.util.Arrays.stream(p.scoreCounts()).sum()).isEqualTo(4_000);
                sampled[run] = java.util.Arrays.stream(p.featureCounts()[0]).sum();
            }
        }
        // Binomial(4000, 0.25): mean 1000, standard deviation 27.4; 4 standard deviations.
        assertThat(sampled[0]).isBetween(890L, 1110L);
        assertThat(sampled[1]).isEqualTo(sampled[0]);
    }

    @Test
    void shouldHandOpenWindowsDownstreamBeforeACheckpointBarrierAndKeepNoStateItself()
            throws Exception {
        LocalMonitorOperator op = local(60_000);
        try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                new OneInputStreamOperatorTestHarness<>(op)) {
            h.open();
            for (long ts = 0; ts < 30; ts++) {
                h.processElement(prediction(ts, Arm.BASELINE), ts);
            }
            h.prepareSnapshotPreBarrier(1);
            assertThat(partials(h))
                    .singleElement()
                    .satisfies(p -> assertThat(p.count()).isEqualTo(30));
            assertThat(op.openWindows()).isZero();
            var snapshot = h.snapshot(1, 1);
            assertThat(snapshot.getManagedOperatorState()).isEmpty();
            for (long ts = 30; ts < 50; ts++) {
                h.processElement(prediction(ts, Arm.BASELINE), ts);
            }
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            List<WindowPartial> all = partials(h);
            assertThat(all).hasSize(2);
            assertThat(all.get(0).plus(all.get(1)).count()).isEqualTo(50);
        }
    }

    @Test
    void shouldHandOpenWindowsDownstreamBeforePassingOnThatItsInputWentIdle() throws Exception {
        LocalMonitorOperator op = local(60_000);
        try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                new OneInputStreamOperatorTestHarness<>(op)) {
            h.open();
            for (long ts = 0; ts < 30; ts++) {
                h.processElement(prediction(ts, Arm.BASELINE), ts);
            }
            h.processWatermarkStatus(WatermarkStatus.IDLE);
            // the partial first, then the status: downstream, no other task's time can close
            // the window before this task's events are in it
            Object[] out = h.getOutput().toArray();
            assertThat(out).hasSize(2);
            assertThat(out[0])
                    .isInstanceOfSatisfying(
                            StreamRecord.class,
                            r -> assertThat(((WindowPartial) r.getValue()).count()).isEqualTo(30));
            assertThat(out[1]).isEqualTo(WatermarkStatus.IDLE);
            assertThat(op.openWindows()).isZero();
            // an ACTIVE status leaves windows open; the window's later events make a second
            // partial, which the merge adds to the first
            h.processWatermarkStatus(WatermarkStatus.ACTIVE);
            h.processElement(prediction(40, Arm.BASELINE), 40);
            assertThat(op.openWindows()).isEqualTo(1);
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(partials(h)).extracting(WindowPartial::count).containsExactly(30L, 1L);
        }
    }

    @Test
    void shouldReportSlidingWindowsAsTheSumOfTheirBuckets() throws Exception {
        MonitorSettings sliding = settings(3_000).withSlide(1_000);
        List<WindowPartial> buckets = new ArrayList<>();
        try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                new OneInputStreamOperatorTestHarness<>(
                        new LocalMonitorOperator(repository, SCHEMAS, SHARED, sliding))) {
            h.open();
            for (long ts = 0; ts < 10; ts++) { // bucket [0, 1000): 10
                h.processElement(prediction(ts, Arm.BASELINE), ts);
            }
            for (long ts = 1_000; ts < 1_020; ts++) { // bucket [1000, 2000): 20
                h.processElement(prediction(ts, Arm.BASELINE), ts);
            }
            for (long ts = 3_000; ts < 3_005; ts++) { // bucket [3000, 4000): 5
                h.processElement(prediction(ts, Arm.BASELINE), ts);
            }
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            buckets.addAll(partials(h));
        }
        assertThat(buckets)
                .extracting(WindowPartial::windowEnd)
                .containsExactlyInAnyOrder(1_000L, 2_000L, 4_000L);

        try (KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> h =
                merge(sliding)) {
            h.open();
            for (WindowPartial b : buckets) {
                h.processElement(MonitorPartial.of(b), b.windowEnd() - 1);
            }
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            List<MonitoringRecord> out = h.extractOutputValues();
            // Every window of 3 s starting each second that holds a bucket with data.
            assertThat(out)
                    .extracting(MonitoringRecord::windowEnd, MonitoringRecord::count)
                    .containsExactly(
                            tuple(1_000L, 10L),
                            tuple(2_000L, 30L),
                            tuple(3_000L, 30L),
                            tuple(4_000L, 25L),
                            tuple(5_000L, 5L),
                            tuple(6_000L, 5L));
            assertThat(out)
                    .allSatisfy(
                            r -> {
                                assertThat(r.windowEnd() - r.windowStart()).isEqualTo(3_000);
                                assertThat(r.scoreDrift().n()).isEqualTo(r.count());
                            });
            assertThat(h.numKeyedStateEntries()).isEqualTo(1); // the reported-through mark
        }
    }

    @Test
    void shouldPairAShadowsScoresWithTheServedOnesOfTheSameEvents() throws Exception {
        LocalMonitorOperator op =
                new LocalMonitorOperator(
                        repository, SCHEMAS, SHARED, settings(1_000), java.util.Set.of("fraud"));
        try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                new OneInputStreamOperatorTestHarness<>(op)) {
            h.open();
            for (int i = 0; i < 15; i++) {
                float served = i < 10 ? 0.2f : 0.7f;
                float shadow = i < 10 ? 0.6f : 0.7f;
                h.processElement(scored("e" + i, Arm.BASELINE, served, true), 10);
                h.processElement(scored("e" + i, Arm.SHADOW, shadow, false), 10);
            }
            // a shadow scoring that failed leaves its served score unpaired
            h.processElement(scored("lone", Arm.BASELINE, 0.1f, true), 10);
            h.prepareSnapshotPreBarrier(1);
            WindowPartial shadow =
                    partials(h).stream()
                            .filter(p -> p.arm().equals("shadow"))
                            .findFirst()
                            .orElseThrow();
            assertThat(shadow.paired().pairs()).isEqualTo(15);
            assertThat(shadow.paired().flipsUp()).isEqualTo(10);
            assertThat(shadow.paired().flipsDown()).isZero();
            assertThat(shadow.paired().deltaSum())
                    .isCloseTo(
                            10 * ((double) 0.6f - 0.2f), org.assertj.core.data.Offset.offset(1e-9));
            assertThat(shadow.paired().sample()).hasSize(15);
            WindowPartial served =
                    partials(h).stream()
                            .filter(p -> p.arm().equals("baseline"))
                            .findFirst()
                            .orElseThrow();
            assertThat(served.paired().pairs()).isZero();
        }
    }

    Prediction scored(String id, Arm arm, float score, boolean served) {
        Prediction p = prediction(10, arm);
        return new Prediction(
                id,
                p.unit(),
                p.experiment(),
                p.model(),
                p.version(),
                arm,
                served,
                score,
                p.outputs(),
                p.ts(),
                p.scoredAt(),
                p.latencyUs(),
                p.planId(),
                p.bucket(),
                null,
                p.features(),
                java.util.Map.of(),
                null);
    }
}
