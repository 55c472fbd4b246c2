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
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.api.java.typeutils.PojoField;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.api.java.typeutils.runtime.PojoSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code units} of every monitoring report against an exact count: the distinct units with an
 * attempt in the report's window, per scoring task, computed here from the predictions sent. Real
 * operators in Flink's harnesses: two scoring tasks' pre-aggregations, cut by checkpoint barriers,
 * feeding one merge, with arrivals out of order within the watermark's bound.
 */
class ActiveUnitsTest {
    @TempDir static Path repo;
    static ModelRepository repository;
    static final Map<String, ExperimentSchema> SCHEMAS =
            Map.of(
                    "fraud",
                    new ExperimentSchema("fraud", DemoModels.MODEL, SyntheticFraud.FEATURES));
    static final Map<String, String> SHARED = Map.of("fraud", DemoModels.BASELINE);

    /** Events arrive up to this much after later ones; the watermark trails by more. */
    static final long DISORDER = 4_000;

    /** The watermark trails the latest event time by this much. */
    static final long BOUND = 5_000;

    static final long SPAN = 240_000;

    @BeforeAll
    static void models() throws Exception {
        DemoModels.generate(repo, 1, 3_000, 1_000);
        repository = ModelRepository.at(repo.toString());
    }

    static MonitorSettings settings(long window, long slide) {
        return MonitorSettings.defaults(window)
                .withSlide(slide)
                .withDrift(new DriftMeasures.Thresholds(0.1, 0.25, 5, 1e-4));
    }

    /** One prediction as sent, with the scoring task it was sent to. */
    record Sent(Prediction prediction, int task, long arrival) {}

    @Test
    void shouldCountEachUnitOnceInEverySlidingWindowItWasActiveIn() throws Exception {
        assertUnitsExact(settings(60_000, 20_000), traffic(1, 1_500, false));
    }

    @Test
    void shouldCountEachUnitOnceInEveryWindowOfFourSlides() throws Exception {
        assertUnitsExact(settings(60_000, 15_000), traffic(2, 1_500, false));
    }

    @Test
    void shouldCountEachUnitOnceInEveryTumblingWindow() throws Exception {
        assertUnitsExact(settings(60_000, 60_000), traffic(3, 1_500, false));
    }

    @Test
    void shouldCountAUnitOncePerScoringTaskItsEventsWereScoredIn() throws Exception {
        // a producer that does not key by unit: each task counts the units it saw
        assertUnitsExact(settings(60_000, 20_000), traffic(4, 600, true));
    }

    @Test
    void shouldCountTheUnitsOfAPartialThatCameAfterItsFirstWindowInTheWindowsStillOpen()
            throws Exception {
        MonitorSettings settings = settings(3_000, 1_000);
        // task a: unit a in the first second; task b: unit b in the first two seconds
        List<WindowPartial> a = local(settings, prediction("a1", "a", Arm.CONTROL, 500));
        List<WindowPartial> b =
                local(
                        settings,
                        prediction("b1", "b", Arm.CONTROL, 600),
                        prediction("b2", "b", Arm.CONTROL, 1_600));
        try (KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> h =
                merge(settings)) {
            h.open();
            h.processElement(MonitorPartial.of(bucket(a, 1_000)), 999);
            h.processElement(MonitorPartial.of(bucket(b, 2_000)), 1_999);
            h.processWatermark(new Watermark(1_200)); // task b was idle: [-2 s, 1 s) reported
            // b's first second comes back: late, and its unit b is still new to the windows
            // ending at 2 and 3 s there (its second second did not count it again)
            h.processElement(MonitorPartial.of(bucket(b, 1_000)), 999);
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            assertThat(h.extractOutputValues())
                    .extracting(
                            MonitoringRecord::windowEnd,
                            MonitoringRecord::count,
                            MonitoringRecord::late,
                            MonitoringRecord::activeUnits)
                    .containsExactly(
                            tuple(1_000L, 1L, 0L, 1L),
                            tuple(2_000L, 2L, 1L, 2L),
                            tuple(3_000L, 2L, 1L, 2L),
                            tuple(4_000L, 1L, 1L, 1L));
        }
    }

    @Test
    void shouldReadAPartialFromASavepointBeforePerWindowUnitsAsItsBucketsUnitsAsThatVersionDid()
            throws Exception {
        MonitorSettings settings = settings(3_000, 1_000);
        // unit u in the first and second second of the windows ending at 2 and 3 s
        List<WindowPartial> partials =
                local(
                        settings,
                        prediction("e1", "u", Arm.CONTROL, 100),
                        prediction("e2", "v", Arm.CONTROL, 200),
                        prediction("e3", "u", Arm.CONTROL, 1_100));
        assertThat(bucket(partials, 1_000).unitsNewToWindow()).containsExactly(2, 2, 2);
        assertThat(bucket(partials, 2_000).unitsNewToWindow()).containsExactly(0, 0, 1);

        TypeInformation<WindowPartial> info = TypeInformation.of(WindowPartial.class);
        assertThat(info).isInstanceOf(PojoTypeInfo.class);
        List<WindowPartial> restored = new ArrayList<>();
        for (WindowPartial p : partials) {
            restored.add(throughOlderSavepoint((PojoTypeInfo<WindowPartial>) info, p));
        }
        assertThat(restored).allSatisfy(p -> assertThat(p.unitsNewToWindow()).isNull());
        assertThat(restored)
                .extracting(WindowPartial::count, WindowPartial::activeUnits)
                .containsExactlyElementsOf(
                        partials.stream().map(p -> tuple(p.count(), p.activeUnits())).toList());

        try (KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> h =
                merge(settings)) {
            h.open();
            for (WindowPartial p : restored) {
                h.processElement(MonitorPartial.of(p), p.windowEnd() - 1);
            }
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            // as the older version counted: each second's own units, added up
            assertThat(h.extractOutputValues())
                    .extracting(MonitoringRecord::windowEnd, MonitoringRecord::activeUnits)
                    .containsExactly(
                            tuple(1_000L, 2L),
                            tuple(2_000L, 3L),
                            tuple(3_000L, 3L),
                            tuple(4_000L, 1L));
        }
    }

    /**
     * {@code p} written by the serializer of a version whose {@link WindowPartial} had no {@code
     * unitsNewToWindow}, with that serializer's snapshot, and read back as a restore does: the
     * current serializer resolved against the old snapshot, the bytes read by its restore
     * serializer.
     */
    static WindowPartial throughOlderSavepoint(PojoTypeInfo<WindowPartial> info, WindowPartial p)
            throws Exception {
        SerializerConfig config = new SerializerConfigImpl();
        List<Field> fields = new ArrayList<>();
        List<TypeSerializer<?>> serializers = new ArrayList<>();
        for (int i = 0; i < info.getArity(); i++) {
            PojoField field = info.getPojoFieldAt(i);
            if (!field.getField().getName().equals("unitsNewToWindow")) {
                fields.add(field.getField());
                serializers.add(field.getTypeInformation().createSerializer(config));
            }
        }
        PojoSerializer<WindowPartial> older =
                new PojoSerializer<>(
                        WindowPartial.class,
                        serializers.toArray(TypeSerializer[]::new),
                        fields.toArray(Field[]::new),
                        config);
        DataOutputSerializer data = new DataOutputSerializer(1 << 16);
        older.serialize(p, data);
        DataOutputSerializer snapshot = new DataOutputSerializer(1 << 10);
        TypeSerializerSnapshot.writeVersionedSnapshot(snapshot, older.snapshotConfiguration());
        TypeSerializerSnapshot<WindowPartial> restored =
                TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(snapshot.getCopyOfBuffer()),
                        ActiveUnitsTest.class.getClassLoader());
        TypeSerializerSchemaCompatibility<WindowPartial> compatibility =
                info.createSerializer(config)
                        .snapshotConfiguration()
                        .resolveSchemaCompatibility(restored);
        assertThat(compatibility.isCompatibleAfterMigration()).isTrue();
        return restored.restoreSerializer()
                .deserialize(new DataInputDeserializer(data.getCopyOfBuffer()));
    }

    /** The partials one scoring task emits for {@code predictions}, all within their bounds. */
    static List<WindowPartial> local(MonitorSettings settings, Prediction... predictions)
            throws Exception {
        try (OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                new OneInputStreamOperatorTestHarness<>(
                        new LocalMonitorOperator(repository, SCHEMAS, SHARED, settings))) {
            h.open();
            for (Prediction p : predictions) {
                h.processElement(p, p.ts());
            }
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            List<WindowPartial> out = new ArrayList<>();
            for (Object o : h.getOutput()) {
                if (o instanceof StreamRecord<?> r) {
                    out.add((WindowPartial) r.getValue());
                }
            }
            out.sort(Comparator.comparingLong(WindowPartial::windowEnd));
            return out;
        }
    }

    static WindowPartial bucket(List<WindowPartial> partials, long end) {
        return partials.stream().filter(p -> p.windowEnd() == end).findFirst().orElseThrow();
    }

    static KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> merge(
            MonitorSettings settings) throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(
                new KeyedProcessOperator<>(
                        new WindowMergeFunction(repository, SCHEMAS, SHARED, settings)),
                MonitorPartial::experiment,
                Types.STRING);
    }

    /**
     * Units that each come back a few times over up to 90 s (so across slides and windows), of the
     * control (v1) and candidate (v2) arms, sent to two scoring tasks by unit ({@code spread}: each
     * event to a random task), arriving out of order by up to {@link #DISORDER}.
     */
    List<Sent> traffic(long seed, int units, boolean spread) {
        SplittableRandom random = new SplittableRandom(seed);
        List<Sent> sent = new ArrayList<>();
        int id = 0;
        for (int u = 0; u < units; u++) {
            String unit = "unit-" + u;
            Arm arm = u % 3 == 0 ? Arm.CANDIDATE : Arm.CONTROL;
            long first = random.nextLong(SPAN);
            long span = random.nextInt(4) == 0 ? 1_000 : random.nextLong(90_000);
            int events = 1 + random.nextInt(8);
            for (int e = 0; e < events; e++) {
                long ts = Math.min(SPAN - 1, first + random.nextLong(span + 1));
                int task = spread ? random.nextInt(2) : Math.floorMod(unit.hashCode(), 2);
                long arrival = ts + random.nextLong(DISORDER);
                sent.add(new Sent(prediction("e" + id++, unit, arm, ts), task, arrival));
            }
        }
        sent.sort(Comparator.comparingLong(Sent::arrival));
        return sent;
    }

    static Prediction prediction(String eventId, String unit, Arm arm, long ts) {
        return new Prediction(
                eventId,
                unit,
                "fraud",
                DemoModels.MODEL,
                arm == Arm.CANDIDATE ? DemoModels.GOOD_CANDIDATE : DemoModels.BASELINE,
                arm,
                true,
                0.2f,
                new float[] {0.8f, 0.2f},
                ts,
                ts,
                1_000,
                "p",
                1,
                null,
                new float[SyntheticFraud.FEATURES.size()],
                Map.of(),
                null);
    }

    /**
     * Runs {@code sent} through two pre-aggregating tasks and the merge, as the job wires them
     * (watermarks trailing the latest arrival by {@link #BOUND}, a checkpoint barrier now and
     * then), and checks each report's units against the distinct units per task in its window.
     */
    static void assertUnitsExact(MonitorSettings settings, List<Sent> sent) throws Exception {
        List<MonitoringRecord> reports = run(settings, sent);
        Map<String, Long> expected = new TreeMap<>();
        Map<String, Long> expectedCount = new HashMap<>();
        long window = settings.windowMillis();
        for (long end = settings.slideMillis();
                end < SPAN + window + settings.slideMillis();
                end += settings.slideMillis()) {
            long start = end - window;
            for (String arm : List.of("control", "candidate")) {
                List<Set<String>> perTask = List.of(new HashSet<>(), new HashSet<>());
                long count = 0;
                for (Sent s : sent) {
                    Prediction p = s.prediction();
                    if (p.arm().wireName().equals(arm) && p.ts() >= start && p.ts() < end) {
                        perTask.get(s.task()).add(p.unit());
                        count++;
                    }
                }
                if (count > 0) {
                    String key = arm + " [" + start + ", " + end + ")";
                    expected.put(key, (long) perTask.get(0).size() + perTask.get(1).size());
                    expectedCount.put(key, count);
                }
            }
        }
        Map<String, Long> actual = new TreeMap<>();
        for (MonitoringRecord r : reports) {
            String key = r.arm() + " [" + r.windowStart() + ", " + r.windowEnd() + ")";
            assertThat(r.late()).as("late in %s", key).isZero(); // all within the bound
            assertThat(r.count()).as("count of %s", key).isEqualTo(expectedCount.get(key));
            assertThat(actual.put(key, r.activeUnits())).as("reported twice: %s", key).isNull();
        }
        assertThat(actual).isEqualTo(expected);
        if (settings.sliding()) {
            // units do come back in other slides of a window, or the check would prove nothing
            assertThat(expected.values().stream().mapToLong(Long::longValue).sum())
                    .isLessThan(sumOverBuckets(settings, sent));
        }
    }

    /** What adding the buckets' distinct units up would give. */
    static long sumOverBuckets(MonitorSettings settings, List<Sent> sent) {
        Map<String, Set<String>> perBucket = new HashMap<>();
        for (Sent s : sent) {
            Prediction p = s.prediction();
            long bucket = Math.floorDiv(p.ts(), settings.slideMillis());
            perBucket
                    .computeIfAbsent(p.arm() + "/" + s.task() + "/" + bucket, b -> new HashSet<>())
                    .add(p.unit());
        }
        long k = settings.windowMillis() / settings.slideMillis();
        return k * perBucket.values().stream().mapToLong(Set::size).sum();
    }

    static List<MonitoringRecord> run(MonitorSettings settings, List<Sent> sent) throws Exception {
        List<OneInputStreamOperatorTestHarness<Prediction, WindowPartial>> tasks =
                new ArrayList<>();
        List<LocalMonitorOperator> operators = new ArrayList<>();
        // per series, the buckets of the windows still open: those ending from k − 1 slides
        // before the watermark to the latest event's
        long slides = settings.windowMillis() / settings.slideMillis();
        long heldAtMost = 2 * (slides + BOUND / settings.slideMillis() + 2);
        try (KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord>
                merge = merge(settings)) {
            merge.open();
            for (int t = 0; t < 2; t++) {
                LocalMonitorOperator op =
                        new LocalMonitorOperator(repository, SCHEMAS, SHARED, settings);
                OneInputStreamOperatorTestHarness<Prediction, WindowPartial> h =
                        new OneInputStreamOperatorTestHarness<>(op);
                h.open();
                tasks.add(h);
                operators.add(op);
            }
            long latest = Long.MIN_VALUE;
            long checkpoint = 0;
            for (int i = 0; i < sent.size(); i++) {
                Sent s = sent.get(i);
                tasks.get(s.task()).processElement(s.prediction(), s.prediction().ts());
                latest = Math.max(latest, s.prediction().ts());
                if (i % 50 == 49) {
                    long mark = latest - BOUND;
                    if (i % 700 == 699) {
                        checkpoint++;
                        for (var h : tasks) {
                            h.prepareSnapshotPreBarrier(checkpoint);
                        }
                    }
                    for (var h : tasks) {
                        h.processWatermark(new Watermark(mark));
                    }
                    forward(tasks, merge);
                    merge.processWatermark(new Watermark(mark));
                    for (LocalMonitorOperator op : operators) {
                        assertThat((long) op.unitBuckets()).isBetween(1L, heldAtMost);
                    }
                }
            }
            for (var h : tasks) {
                h.processWatermark(new Watermark(Long.MAX_VALUE));
            }
            for (LocalMonitorOperator op : operators) {
                assertThat(op.unitBuckets()).isZero();
            }
            forward(tasks, merge);
            merge.processWatermark(new Watermark(Long.MAX_VALUE));
            return merge.extractOutputValues();
        } finally {
            for (var h : tasks) {
                h.close();
            }
        }
    }

    /** Hands the tasks' partials emitted so far to the merge. */
    static void forward(
            List<OneInputStreamOperatorTestHarness<Prediction, WindowPartial>> tasks,
            KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> merge)
            throws Exception {
        for (var h : tasks) {
            for (Object o : h.getOutput()) {
                if (o instanceof StreamRecord<?> r) {
                    WindowPartial p = (WindowPartial) r.getValue();
                    merge.processElement(MonitorPartial.of(p), r.getTimestamp());
                }
            }
            h.getOutput().clear();
        }
    }
}
