package io.canaryflow.operators.monitoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.drift.DriftMeasures;
import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.ScoringFailure;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a window report says about errors, labels, arms compared, and segments. */
class WindowReportsTest {
    @TempDir static Path repo;
    static ModelRepository repository;
    static MonitorReferences.Version references;
    static final Map<String, ExperimentSchema> SCHEMAS =
            Map.of(
                    "fraud",
                    new ExperimentSchema("fraud", DemoModels.MODEL, SyntheticFraud.FEATURES));
    static final Map<String, String> SHARED = Map.of("fraud", DemoModels.BASELINE);
    static final MonitorSettings SETTINGS =
            MonitorSettings.defaults(1_000)
                    .withDrift(new DriftMeasures.Thresholds(0.1, 0.25, 5, 1e-4));

    @BeforeAll
    static void models() throws Exception {
        DemoModels.generate(repo, 1, 3_000, 2_000);
        repository = ModelRepository.at(repo.toString());
        references =
                new MonitorReferences(repository, SCHEMAS, SHARED)
                        .of("fraud", DemoModels.MODEL, DemoModels.BASELINE);
    }

    static Prediction prediction(
            SyntheticFraud data,
            Arm arm,
            float score,
            long latencyUs,
            String country,
            double amountShift,
            ScoringFailure failure) {
        double[] row = data.next().features();
        float[] f = new float[row.length];
        for (int i = 0; i < row.length; i++) {
            f[i] = (float) row[i];
        }
        f[1] += (float) amountShift;
        return new Prediction(
                "e",
                "u",
                "fraud",
                DemoModels.MODEL,
                DemoModels.BASELINE,
                arm,
                true,
                failure == null ? score : Float.NaN,
                null,
                10,
                10,
                latencyUs,
                "p",
                1,
                null,
                f,
                country == null ? Map.of() : Map.of("country", country),
                failure);
    }

    static WindowAggregate aggregate(
            MonitorReferences.Version v, MonitorSettings settings, Arm arm) {
        return new WindowAggregate(
                prediction(new SyntheticFraud(0), arm, 0, 0, null, 0, null),
                0,
                1_000,
                v,
                settings,
                new io.canaryflow.operators.units.UnitWindows(1_000, 1));
    }

    @Test
    void shouldCountFailuresAndTimeoutsAsTheVersionsInferenceErrors() {
        SyntheticFraud data = new SyntheticFraud(1);
        WindowAggregate a = aggregate(references, SETTINGS, Arm.CANDIDATE);
        for (int i = 0; i < 88; i++) {
            a.add(prediction(data, Arm.CANDIDATE, 0.1f, 900, null, 0, null), true);
        }
        for (int i = 0; i < 2; i++) { // later than the 1 s timeout
            a.add(prediction(data, Arm.CANDIDATE, 0.1f, 2_000_000, null, 0, null), true);
        }
        for (int i = 0; i < 6; i++) {
            a.add(prediction(data, Arm.CANDIDATE, 0, 0, null, 0, ScoringFailure.RUN_FAILURE), true);
        }
        for (int i = 0; i < 4; i++) {
            a.add(prediction(data, Arm.CANDIDATE, 0, 0, null, 0, ScoringFailure.UNAVAILABLE), true);
        }
        MonitoringRecord r =
                WindowReports.report(a.toPartial(), null, references, SETTINGS, 0, 104);
        assertThat(r.count()).isEqualTo(90);
        assertThat(r.errors().attempts()).isEqualTo(100);
        assertThat(r.errors().failures()[ScoringFailure.RUN_FAILURE.ordinal()]).isEqualTo(6);
        assertThat(r.errors().failures()[ScoringFailure.UNAVAILABLE.ordinal()]).isEqualTo(4);
        assertThat(r.errors().timeouts()).isEqualTo(2);
        assertThat(r.errors().rate()).isEqualTo(0.12); // (6 + 4 + 2) / 100
        assertThat(r.errors().level()).isEqualTo(DriftMeasures.Level.ALERT);
        // routing sent 104: four never came back as a prediction or a failure
        assertThat(r.errors().routed()).isEqualTo(104);
        assertThat(r.errors().lost()).isEqualTo(4);
        // failures carry no score: the score histogram holds the 90 predictions only
        assertThat(r.scoreDrift().n()).isEqualTo(90);
    }

    KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> merge()
            throws Exception {
        return merge(SETTINGS);
    }

    KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> merge(
            MonitorSettings settings) throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, MonitorPartial, MonitoringRecord> h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new WindowMergeFunction(repository, SCHEMAS, SHARED, settings)),
                        MonitorPartial::experiment,
                        Types.STRING);
        h.open();
        return h;
    }

    /** The label merge, keyed by experiment, in a harness. */
    KeyedOneInputStreamOperatorTestHarness<String, LabelPartial, MonitoringRecord> labelMerge(
            MonitorSettings settings) throws Exception {
        KeyedOneInputStreamOperatorTestHarness<String, LabelPartial, MonitoringRecord> h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new LabelMergeFunction(repository, SCHEMAS, SHARED, settings)),
                        LabelPartial::experiment,
                        Types.STRING);
        h.open();
        return h;
    }

    static LabelPartial labels(
            long start, long opened, long joined, long expired, long late, long misclassified) {
        return new LabelPartial(
                "fraud",
                DemoModels.MODEL,
                DemoModels.BASELINE,
                "control",
                start,
                start + 1_000,
                opened,
                joined,
                expired,
                late,
                misclassified,
                0.3 * joined,
                0.2 * joined,
                null);
    }

    @Test
    void shouldCarryPendingLabelsFromWindowToWindowAndRateOnlyEnoughJoinedLabels()
            throws Exception {
        try (var h = labelMerge(SETTINGS)) {
            h.processElement(labels(0, 10, 3, 0, 0, 1), 999);
            h.processElement(labels(1_000, 5, 6, 2, 1, 3), 1_999);
            h.processWatermark(new Watermark(1_999));
            List<MonitoringRecord> all = h.extractOutputValues();
            // each window's label reports, then the mark that the window's labels are complete
            assertThat(all)
                    .extracting(r -> r.labelsMark() ? "mark " + r.windowEnd() : "report")
                    .containsExactly("report", "mark 1000", "report", "mark 2000");
            List<MonitoringRecord> out =
                    all.stream().filter(MonitoringRecord::labelReport).toList();
            assertThat(out).hasSize(2);
            MonitoringRecord.Labels first = out.get(0).labels();
            assertThat(first.pending()).isEqualTo(7); // 10 opened, 3 joined
            assertThat(first.level()).isEqualTo(DriftMeasures.Level.INSUFFICIENT); // 3 < 5
            assertThat(first.errorRate()).isNaN();
            MonitoringRecord.Labels second = out.get(1).labels();
            assertThat(second.pending()).isEqualTo(7 + 5 - 6 - 2);
            assertThat(second.late()).isEqualTo(1);
            assertThat(second.errorRate()).isEqualTo(0.5); // 3 of 6
            assertThat(second.logLoss()).isCloseTo(0.3, within(1e-12));
            assertThat(second.mae()).isCloseTo(0.2, within(1e-12));
            assertThat(second.level()).isEqualTo(DriftMeasures.Level.ALERT); // >= 0.4
            // label reports carry label outcomes alone
            assertThat(out).allSatisfy(r -> assertThat(r.labelReport()).isTrue());
            assertThat(out.get(1).count()).isZero();
            assertThat(out.get(1).errors()).isNull();
        }
    }

    @Test
    void shouldCountEachLabelBucketOnceForPendingWhenWindowsSlide() throws Exception {
        try (var h = labelMerge(SETTINGS.withSlide(500))) {
            h.processElement(labels(0, 10, 3, 0, 0, 1).in(0, 500), 499);
            h.processElement(labels(0, 5, 6, 2, 0, 3).in(500, 1_000), 999);
            h.processWatermark(new Watermark(Long.MAX_VALUE));
            List<MonitoringRecord.Labels> out =
                    h.extractOutputValues().stream()
                            .filter(MonitoringRecord::labelReport)
                            .map(MonitoringRecord::labels)
                            .toList();
            assertThat(out)
                    .extracting(MonitoringRecord.Labels::opened)
                    .containsExactly(10L, 15L, 5L);
            assertThat(out).extracting(MonitoringRecord.Labels::joined).containsExactly(3L, 9L, 6L);
            assertThat(out)
                    .extracting(MonitoringRecord.Labels::pending)
                    .containsExactly(7L, 4L, 4L); // 10 - 3, then + 5 - 6 - 2, then no new bucket
        }
    }

    @Test
    void shouldCompareACandidateWithItsControlInTheSameWindowOnly() throws Exception {
        WindowAggregate control = aggregate(references, SETTINGS, Arm.CONTROL);
        WindowAggregate same = aggregate(references, SETTINGS, Arm.CANDIDATE);
        SyntheticFraud a = new SyntheticFraud(5);
        SyntheticFraud b = new SyntheticFraud(5);
        for (int i = 0; i < 2_000; i++) {
            float score = (float) ((i % 97) / 97.0 * 0.3);
            control.add(prediction(a, Arm.CONTROL, score, 10, null, 0, null), true);
            same.add(prediction(b, Arm.CANDIDATE, score, 10, null, 0, null), true);
        }
        try (var h = merge()) {
            h.processElement(MonitorPartial.of(control.toPartial()), 999);
            h.processElement(MonitorPartial.of(same.toPartial()), 999);
            h.processWatermark(new Watermark(999));
            MonitoringRecord candidate =
                    h.extractOutputValues().stream()
                            .filter(r -> r.arm().equals("candidate"))
                            .findFirst()
                            .orElseThrow();
            assertThat(candidate.comparedArm()).isEqualTo("control");
            assertThat(candidate.scoreVersusArm().psi()).isZero(); // identical scores
            assertThat(candidate.scoreVersusArm().level()).isEqualTo(DriftMeasures.Level.OK);
            MonitoringRecord controlReport =
                    h.extractOutputValues().stream()
                            .filter(r -> r.arm().equals("control"))
                            .findFirst()
                            .orElseThrow();
            assertThat(controlReport.scoreVersusArm()).isNull();
        }
        WindowAggregate shifted = aggregate(references, SETTINGS, Arm.CANDIDATE);
        SyntheticFraud c = new SyntheticFraud(5);
        for (int i = 0; i < 2_000; i++) {
            float score = (float) ((i % 97) / 97.0 * 0.3) + 0.3f;
            shifted.add(prediction(c, Arm.CANDIDATE, score, 10, null, 0, null), true);
        }
        try (var h = merge()) {
            h.processElement(MonitorPartial.of(control.toPartial()), 999);
            h.processElement(MonitorPartial.of(shifted.toPartial()), 999);
            h.processWatermark(new Watermark(999));
            MonitoringRecord candidate =
                    h.extractOutputValues().stream()
                            .filter(r -> r.arm().equals("candidate"))
                            .findFirst()
                            .orElseThrow();
            assertThat(candidate.scoreVersusArm().level()).isEqualTo(DriftMeasures.Level.ALERT);
            assertThat(candidate.scoreVersusArm().ksPValue()).isLessThan(1e-6);
        }
    }

    @Test
    void shouldReportAOneArmWindowWithoutAComparisonAndAnEmptyOneAsInsufficient() throws Exception {
        WindowAggregate candidate = aggregate(references, SETTINGS, Arm.CANDIDATE);
        SyntheticFraud data = new SyntheticFraud(9);
        for (int i = 0; i < 50; i++) {
            candidate.add(prediction(data, Arm.CANDIDATE, 0.1f, 10, null, 0, null), true);
        }
        try (var h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(
                                new WindowMergeFunction(
                                        repository, SCHEMAS, SHARED, SETTINGS, true)),
                        MonitorPartial::experiment,
                        Types.STRING)) {
            h.open();
            h.processElement(MonitorPartial.of(candidate.toPartial()), 999);
            // a series routed events that never came back: no prediction at all
            h.processElement(
                    MonitorPartial.of(
                            new RoutedPartial(
                                    "fraud",
                                    DemoModels.MODEL,
                                    DemoModels.BASELINE,
                                    "control",
                                    0,
                                    1_000,
                                    3)),
                    999);
            h.processWatermark(new Watermark(999));
            List<MonitoringRecord> out = h.extractOutputValues();
            assertThat(out).hasSize(2);
            MonitoringRecord alone =
                    out.stream().filter(r -> r.arm().equals("candidate")).findFirst().orElseThrow();
            assertThat(alone.scoreVersusArm()).isNull(); // no control in this window
            assertThat(alone.comparedArm()).isNull();
            assertThat(alone.count()).isEqualTo(50);
            MonitoringRecord empty =
                    out.stream().filter(r -> r.arm().equals("control")).findFirst().orElseThrow();
            assertThat(empty.count()).isZero();
            assertThat(empty.featureDrift())
                    .allSatisfy(
                            d -> assertThat(d.level()).isEqualTo(DriftMeasures.Level.INSUFFICIENT));
            assertThat(empty.scoreDrift().level()).isEqualTo(DriftMeasures.Level.INSUFFICIENT);
            assertThat(empty.latencyP99Us()).isNaN();
            assertThat(empty.errors().rate()).isNaN();
            assertThat(empty.errors().routed()).isEqualTo(3);
            assertThat(empty.errors().lost()).isEqualTo(3);
            // NaN is written as null, not as an invalid JSON number
            String json =
                    new String(
                            new MonitoringSchema().serialize(empty),
                            java.nio.charset.StandardCharsets.UTF_8);
            var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json);
            assertThat(node.get("latency_us").get("p99").isNull()).isTrue();
            assertThat(node.get("errors").get("rate").isNull()).isTrue();
        }
    }

    /** Features only (no score reference), so that every segment test is a feature's. */
    static MonitorReferences.Version featuresOnly() {
        return new MonitorReferences.Version(
                references.names(), references.features(), null, null, "classifier");
    }

    static final List<String> COUNTRIES =
            List.of(
                    "AT", "BE", "CH", "CZ", "DE", "DK", "ES", "FI", "FR", "GR", "HU", "IE", "IT",
                    "LU", "NL", "NO", "PL", "PT", "SE", "SK");

    MonitoringRecord segmentedWindow(long seed, String shiftedCountry) {
        MonitorSettings settings = SETTINGS.withSegments(List.of("country"), 50);
        MonitorReferences.Version v = featuresOnly();
        WindowAggregate a = aggregate(v, settings, Arm.BASELINE);
        SyntheticFraud data = new SyntheticFraud(seed);
        for (String country : COUNTRIES) {
            double shift = country.equals(shiftedCountry) ? 1.0 : 0;
            for (int i = 0; i < 400; i++) {
                a.add(prediction(data, Arm.BASELINE, 0.1f, 10, country, shift, null), true);
            }
        }
        return WindowReports.report(a.toPartial(), null, v, settings, 0, -1);
    }

    @Test
    void shouldKeepFalseSegmentAlarmsRareWithBenjaminiHochbergWhereRawPValuesRaiseMany() {
        int windows = 20;
        int windowsWithADiscovery = 0;
        int rawRejections = 0;
        int tests = 0;
        for (int w = 0; w < windows; w++) {
            MonitoringRecord r = segmentedWindow(100 + w, null);
            assertThat(r.segments()).hasSize(COUNTRIES.size() * SyntheticFraud.FEATURES.size());
            boolean any = false;
            for (MonitoringRecord.SegmentDrift s : r.segments()) {
                tests++;
                if (s.drift().pValue() < 0.05) {
                    rawRejections++;
                }
                any |= s.discovery();
                if (!s.discovery()) {
                    assertThat(s.level()).isEqualTo(DriftMeasures.Level.OK);
                }
            }
            windowsWithADiscovery += any ? 1 : 0;
        }
        // No segment differs: BH at q = 0.05 allows a discovery in at most ~5 % of windows;
        // testing each at 0.05 alone rejects several per window.
        assertThat(windowsWithADiscovery).isLessThanOrEqualTo(2);
        assertThat(rawRejections).isGreaterThan(windows);
        assertThat(tests).isEqualTo(windows * 160);
    }

    @Test
    void shouldFindTheOneSegmentWhoseFeatureShifted() {
        MonitoringRecord r = segmentedWindow(7, "FR");
        List<MonitoringRecord.SegmentDrift> found =
                java.util.Arrays.stream(r.segments()).filter(s -> s.discovery()).toList();
        assertThat(found)
                .anySatisfy(
                        s -> {
                            assertThat(s.segment()).isEqualTo("country=FR");
                            assertThat(s.quantity()).isEqualTo("amount");
                            assertThat(s.level()).isEqualTo(DriftMeasures.Level.ALERT);
                            assertThat(s.adjustedP()).isLessThan(1e-6);
                        });
        assertThat(found).allSatisfy(s -> assertThat(s.segment()).isEqualTo("country=FR"));
    }

    @Test
    void shouldMeasureValuesBeyondTheLimitTogetherAsOther() {
        MonitorSettings settings = SETTINGS.withSegments(List.of("country"), 3);
        WindowAggregate a = aggregate(featuresOnly(), settings, Arm.BASELINE);
        SyntheticFraud data = new SyntheticFraud(3);
        for (String country : COUNTRIES.subList(0, 6)) {
            for (int i = 0; i < 10; i++) {
                a.add(prediction(data, Arm.BASELINE, 0.1f, 10, country, 0, null), true);
            }
        }
        WindowPartial p = a.toPartial();
        assertThat(p.segments())
                .containsExactly("country=AT", "country=BE", "country=CH", "country=__other__");
        assertThat(java.util.Arrays.stream(p.segmentCounts()[3][0]).sum()).isEqualTo(30);
    }
}
