package io.canaryflow.operators.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelSession;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.modelloader.SessionConfig;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.RoutedEvent;
import io.canaryflow.operators.records.ScoringFailure;
import io.canaryflow.operators.records.SourceRecord;
import io.canaryflow.operators.routing.RolloutPlan;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BatchScoringOperatorTest {
    @TempDir static Path repo;
    static ModelRepository repository;
    static final String EXPERIMENT = "fraud";

    /** An experiment whose events carry the model's features reversed, after an extra one. */
    static final String REORDERED = "fraud-reordered";

    static final List<String> REORDERED_FEATURES = reordered();
    static final Map<String, ExperimentSchema> SCHEMAS =
            Map.of(
                    EXPERIMENT,
                    new ExperimentSchema(EXPERIMENT, DemoModels.MODEL, SyntheticFraud.FEATURES),
                    REORDERED,
                    new ExperimentSchema(REORDERED, DemoModels.MODEL, REORDERED_FEATURES));

    static List<String> reordered() {
        List<String> features = new ArrayList<>(SyntheticFraud.FEATURES);
        java.util.Collections.reverse(features);
        features.add(0, "not_a_model_feature");
        return List.copyOf(features);
    }

    static final RolloutPlan PLAN =
            new RolloutPlan(
                    "plan-1",
                    EXPERIMENT,
                    DemoModels.MODEL,
                    RolloutPlan.Mode.CANARY,
                    "s",
                    DemoModels.BASELINE,
                    DemoModels.GOOD_CANDIDATE,
                    10,
                    null);

    OneInputStreamOperatorTestHarness<RoutedEvent, Prediction> harness;
    final SyntheticFraud data = new SyntheticFraud(5);
    int sequence;

    @BeforeAll
    static void models() throws Exception {
        DemoModels.generate(repo, 1, 5_000, 2_000);
        repository = ModelRepository.at(repo.toString());
    }

    OneInputStreamOperatorTestHarness<RoutedEvent, Prediction> open(int maxBatch, long maxDelay)
            throws Exception {
        harness =
                new OneInputStreamOperatorTestHarness<>(
                        new BatchScoringOperator(
                                repository,
                                SessionConfig.defaults(),
                                SCHEMAS,
                                List.of(PLAN),
                                maxBatch,
                                maxDelay));
        harness.setProcessingTime(0);
        harness.open();
        return harness;
    }

    @AfterEach
    void close() throws Exception {
        if (harness != null) {
            harness.close();
        }
    }

    RoutedEvent event(String version, Arm arm, boolean served, String fallback, float[] features) {
        String id = "e-" + sequence++;
        FeatureEvent e =
                new FeatureEvent(
                        id,
                        "u-" + id,
                        EXPERIMENT,
                        1000 + sequence,
                        features,
                        Map.of(),
                        new SourceRecord(null, id.getBytes(), "features", 0, sequence, -1));
        return new RoutedEvent(e, DemoModels.MODEL, version, arm, served, fallback, "plan-1", 7);
    }

    RoutedEvent baselineEvent() {
        double[] row = data.next().features();
        float[] f = new float[row.length];
        for (int i = 0; i < row.length; i++) {
            f[i] = (float) row[i];
        }
        return event(DemoModels.BASELINE, Arm.BASELINE, true, null, f);
    }

    List<Prediction> predictions() {
        return outcomes(true);
    }

    /** Failures of a version to score an event, carried on the main output for monitoring. */
    List<Prediction> failures() {
        return outcomes(false);
    }

    private List<Prediction> outcomes(boolean scored) {
        List<Prediction> out = new ArrayList<>();
        for (Object o : harness.getOutput()) {
            if (o instanceof StreamRecord<?> r
                    && r.getValue() instanceof Prediction p
                    && p.scored() == scored) {
                out.add(p);
            }
        }
        return out;
    }

    List<DeadLetter> deadLetters() {
        ConcurrentLinkedQueue<StreamRecord<DeadLetter>> side =
                harness.getSideOutput(Outputs.DEAD_LETTERS);
        List<DeadLetter> out = new ArrayList<>();
        if (side != null) {
            side.forEach(r -> out.add(r.getValue()));
        }
        return out;
    }

    static float[] directScores(String version, List<RoutedEvent> events) throws Exception {
        try (ModelSession s =
                ModelSession.open(
                        repository.read(new ModelVersion(DemoModels.MODEL, version)),
                        SessionConfig.defaults())) {
            FloatBuffer in = ModelSession.newInputBuffer(events.size(), 8);
            for (int r = 0; r < events.size(); r++) {
                for (int c = 0; c < 8; c++) {
                    in.put(r * 8 + c, events.get(r).event().features()[c]);
                }
            }
            float[] scores = new float[events.size()];
            s.score(in, events.size(), scores);
            return scores;
        }
    }

    @Test
    void shouldScoreOnlyWhenBatchIsFullAndMatchDirectOnnxRuntimeScores() throws Exception {
        open(4, 1_000);
        List<RoutedEvent> sent = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            sent.add(baselineEvent());
            harness.processElement(sent.get(i), 0);
        }
        assertThat(predictions()).isEmpty();
        sent.add(baselineEvent());
        harness.processElement(sent.get(3), 0);

        List<Prediction> out = predictions();
        assertThat(out)
                .extracting(Prediction::eventId)
                .containsExactlyElementsOf(sent.stream().map(r -> r.event().eventId()).toList());
        float[] expected = directScores(DemoModels.BASELINE, sent);
        for (int i = 0; i < 4; i++) {
            assertThat(out.get(i).score()).isEqualTo(expected[i]);
            assertThat(out.get(i).outputs()).hasSize(2);
            assertThat(out.get(i).outputs()[0] + out.get(i).outputs()[1])
                    .isCloseTo(1f, org.assertj.core.data.Offset.offset(1e-5f));
            assertThat(out.get(i).latencyUs()).isGreaterThanOrEqualTo(0);
            assertThat(out.get(i).planId()).isEqualTo("plan-1");
        }
    }

    @Test
    void shouldGatherFeaturesInTheModelsOrderWhenTheExperimentOrdersThemDifferently()
            throws Exception {
        open(3, 1_000);
        List<RoutedEvent> modelOrder = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RoutedEvent e = baselineEvent();
            modelOrder.add(e);
            float[] f = e.event().features();
            float[] reordered = new float[f.length + 1];
            reordered[0] = 1e6f * (i + 1);
            for (int c = 0; c < f.length; c++) {
                reordered[1 + c] = f[f.length - 1 - c];
            }
            FeatureEvent fe =
                    new FeatureEvent(
                            "r-" + i,
                            "u-r-" + i,
                            REORDERED,
                            1000 + i,
                            reordered,
                            Map.of(),
                            new SourceRecord(null, null, "features", 0, i, -1));
            harness.processElement(
                    new RoutedEvent(
                            fe,
                            DemoModels.MODEL,
                            DemoModels.BASELINE,
                            Arm.BASELINE,
                            true,
                            null,
                            "plan-r",
                            1),
                    0);
        }

        List<Prediction> out = predictions();
        assertThat(out).extracting(Prediction::eventId).containsExactly("r-0", "r-1", "r-2");
        float[] expected = directScores(DemoModels.BASELINE, modelOrder);
        for (int i = 0; i < 3; i++) {
            assertThat(out.get(i).score()).isEqualTo(expected[i]);
        }
    }

    @Test
    void shouldFlushPartialBatchWhenMaxDelayPasses() throws Exception {
        open(256, 10);
        harness.processElement(baselineEvent(), 0);
        harness.processElement(baselineEvent(), 0);
        assertThat(harness.getProcessingTimeService().getNumActiveTimers()).isEqualTo(1);
        harness.setProcessingTime(9);
        assertThat(predictions()).isEmpty();
        harness.setProcessingTime(10);
        assertThat(predictions())
                .hasSize(2)
                .allSatisfy(p -> assertThat(p.scoredAt()).isEqualTo(10));
        assertThat(harness.getProcessingTimeService().getNumActiveTimers()).isZero();
    }

    @Test
    void shouldFlushBeforeCheckpointBarrierAndKeepNothingInState() throws Exception {
        open(256, 60_000);
        harness.processElement(baselineEvent(), 0);
        harness.processElement(baselineEvent(), 0);
        assertThat(predictions()).isEmpty();
        harness.prepareSnapshotPreBarrier(1);
        assertThat(predictions()).hasSize(2);
        OperatorSubtaskState state = harness.snapshot(1, 1);
        assertThat(state.getManagedOperatorState()).isEmpty();
        assertThat(state.getRawOperatorState()).isEmpty();
    }

    @Test
    void shouldScoreBufferedEventsBeforePassingOnAWatermark() throws Exception {
        open(256, 60_000);
        harness.processElement(baselineEvent(), 0);
        harness.processWatermark(new Watermark(500));
        List<Object> out = new ArrayList<>(harness.getOutput());
        assertThat(out).hasSize(2);
        assertThat(((StreamRecord<?>) out.get(0)).getValue()).isInstanceOf(Prediction.class);
        assertThat(out.get(1)).isEqualTo(new Watermark(500));
    }

    @Test
    void shouldScoreBufferedEventsBeforePassingOnThatItsInputWentIdle() throws Exception {
        open(256, 60_000);
        harness.processElement(baselineEvent(), 0);
        harness.processWatermarkStatus(WatermarkStatus.ACTIVE);
        assertThat(predictions()).isEmpty(); // still buffered: the input is not idle
        harness.processWatermarkStatus(WatermarkStatus.IDLE);
        List<Object> out = new ArrayList<>(harness.getOutput());
        assertThat(out).hasSize(3);
        assertThat(((StreamRecord<?>) out.get(1)).getValue()).isInstanceOf(Prediction.class);
        assertThat(out.get(2)).isEqualTo(WatermarkStatus.IDLE);
    }

    @Test
    void shouldServeUnloadableCandidateFromItsFallbackAndDeadLetterWhenThereIsNone()
            throws Exception {
        open(1, 10);
        float[] row = baselineEvent().event().features();
        harness.processElement(event("v404", Arm.CANDIDATE, true, DemoModels.BASELINE, row), 0);
        harness.processElement(event("v404", Arm.SHADOW, false, null, row), 0);
        harness.processElement(event("v404", Arm.CANDIDATE, true, null, row), 0);

        assertThat(predictions())
                .singleElement()
                .satisfies(
                        p -> {
                            assertThat(p.version()).isEqualTo(DemoModels.BASELINE);
                            assertThat(p.fallbackFrom()).isEqualTo("v404");
                            assertThat(p.arm()).isEqualTo(Arm.BASELINE);
                        });
        assertThat(deadLetters())
                .singleElement()
                .satisfies(
                        d -> {
                            assertThat(d.reason()).isEqualTo(Reason.MODEL_FAILURE);
                            assertThat(d.detail())
                                    .contains("fraud/v404 cannot be loaded", "manifest.json");
                        });
        // each of the three is an inference error of v404, in the arm it was routed to
        assertThat(failures())
                .extracting(Prediction::version, Prediction::arm, Prediction::failure)
                .containsExactly(
                        tuple("v404", Arm.CANDIDATE, ScoringFailure.UNAVAILABLE),
                        tuple("v404", Arm.SHADOW, ScoringFailure.UNAVAILABLE),
                        tuple("v404", Arm.CANDIDATE, ScoringFailure.UNAVAILABLE));
        assertThat(failures()).allSatisfy(f -> assertThat(f.score()).isNaN());
    }

    @Test
    void shouldDeadLetterOnlyTheRowWithANonFiniteScore() throws Exception {
        open(3, 10);
        float[] huge = new float[8];
        java.util.Arrays.fill(huge, 3e38f);
        huge[2] = -3e38f; // opposing infinities in the logit make the probability NaN
        harness.processElement(baselineEvent(), 0);
        harness.processElement(event(DemoModels.BASELINE, Arm.BASELINE, true, null, huge), 0);
        harness.processElement(baselineEvent(), 0);
        assertThat(predictions())
                .hasSize(2)
                .allSatisfy(p -> assertThat(p.score()).isBetween(0f, 1f));
        assertThat(deadLetters())
                .singleElement()
                .satisfies(
                        d -> {
                            assertThat(d.reason()).isEqualTo(Reason.MODEL_FAILURE);
                            assertThat(d.detail()).contains("non-finite score");
                        });
        assertThat(failures())
                .singleElement()
                .satisfies(
                        f -> {
                            assertThat(f.failure()).isEqualTo(ScoringFailure.NON_FINITE);
                            assertThat(f.version()).isEqualTo(DemoModels.BASELINE);
                        });
    }

    /**
     * A Flink-free scorer with max-batch 2 on {@code nanoClock}; the counters of every version it
     * loads go to {@code counters}.
     */
    static BatchScorer scorer(
            java.util.function.LongSupplier nanoClock,
            List<BatchScorer.InferenceCounters> counters) {
        return new BatchScorer(
                repository,
                SessionConfig.defaults(),
                SCHEMAS,
                2,
                io.canaryflow.modelloader.SessionCache.shared(),
                nanoClock,
                () -> 0L,
                new BatchScorer.LoadListener() {
                    @Override
                    public void loaded(
                            String experiment,
                            ModelVersion id,
                            ModelSession session,
                            BatchScorer.InferenceCounters c) {
                        counters.add(c);
                    }

                    @Override
                    public void failed(String experiment, ModelVersion id, String error) {
                        throw new AssertionError(error);
                    }
                });
    }

    /** Sends predictions to {@code predictions}; any failure or dead letter fails the test. */
    static BatchScorer.Emitter predictionsOnly(
            java.util.function.Consumer<Prediction> predictions) {
        return new BatchScorer.Emitter() {
            @Override
            public void prediction(Prediction p) {
                predictions.accept(p);
            }

            @Override
            public void deadLetter(DeadLetter d) {
                throw new AssertionError(d);
            }

            @Override
            public void failure(Prediction failed) {
                throw new AssertionError(failed);
            }
        };
    }

    @Test
    void shouldCountBatchesRowsAndTheTimeInsideOnnxRuntimePerVersion() throws Exception {
        long[] clock = {0};
        List<BatchScorer.InferenceCounters> counters = new ArrayList<>();
        List<Prediction> scored = new ArrayList<>();
        BatchScorer.Emitter emitter = predictionsOnly(scored::add);
        // Every read of the nano clock advances it by 1 µs: a batch's ONNX Runtime call, read
        // just before and just after, takes exactly 1000 ns.
        try (BatchScorer scorer = scorer(() -> clock[0] += 1_000, counters)) {
            for (int i = 0; i < 5; i++) {
                scorer.add(baselineEvent(), emitter);
            }
            scorer.flushAll(0, emitter);
        }
        assertThat(scored).hasSize(5);
        assertThat(counters)
                .singleElement()
                .satisfies(
                        c -> {
                            assertThat(c.batches()).isEqualTo(3);
                            assertThat(c.rows()).isEqualTo(5);
                            assertThat(c.nanos()).isEqualTo(3_000);
                        });
        // The second row of a full batch entered it one clock read before the call started.
        assertThat(scored.get(1).latencyUs()).isEqualTo(2);
    }

    @Test
    void shouldNotScoreABatchAgainWhenDownstreamFailsOnItsPredictions() throws Exception {
        List<BatchScorer.InferenceCounters> counters = new ArrayList<>();
        int[] predictions = {0};
        BatchScorer.Emitter failing =
                predictionsOnly(
                        p -> {
                            if (predictions[0]++ == 0) {
                                throw new IllegalStateException("downstream is gone");
                            }
                        });
        try (BatchScorer scorer = scorer(System::nanoTime, counters)) {
            scorer.add(baselineEvent(), failing);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                            () -> scorer.add(baselineEvent(), failing))
                    .hasMessage("downstream is gone");
        }
        // The failure reached the caller (Flink fails the task and recovers); the batch was not
        // taken for a model failure and scored again row by row.
        assertThat(predictions[0]).isEqualTo(1);
        assertThat(counters.get(0).batches()).isEqualTo(1);
        assertThat(counters.get(0).rows()).isEqualTo(2);
    }

    /** The baseline's ONNX model, to edit. */
    static ai.onnx.proto.OnnxMl.ModelProto.Builder baselineModel() throws Exception {
        return ai.onnx.proto.OnnxMl.ModelProto.parseFrom(
                java.nio.file.Files.readAllBytes(
                        repo.resolve(DemoModels.MODEL)
                                .resolve(DemoModels.BASELINE + "/model.onnx")))
                .toBuilder();
    }

    /** Adds {@code model} to the repository as {@code version}, with the baseline's manifest. */
    static String addVersion(String version, ai.onnx.proto.OnnxMl.ModelProto model)
            throws Exception {
        Path models = repo.resolve(DemoModels.MODEL);
        Path to = models.resolve(version);
        byte[] bytes = model.toByteArray();
        java.nio.file.Files.createDirectories(to);
        java.nio.file.Files.write(to.resolve("model.onnx"), bytes);
        String manifest =
                java.nio.file.Files.readString(
                        models.resolve(DemoModels.BASELINE + "/manifest.json"));
        String sha =
                io.canaryflow.modelloader.Checksums.sha256Hex(
                        java.nio.file.Files.readAllBytes(
                                models.resolve(DemoModels.BASELINE + "/model.onnx")));
        assertThat(manifest).contains(sha);
        java.nio.file.Files.writeString(
                to.resolve("manifest.json"),
                manifest.replace(sha, io.canaryflow.modelloader.Checksums.sha256Hex(bytes))
                        .replace(
                                "\"version\" : \"" + DemoModels.BASELINE + "\"",
                                "\"version\" : \"" + version + "\""));
        return version;
    }

    /** The baseline exported for exactly {@code rows} rows per call (a fixed first dimension). */
    static String fixedRowsVersion(int rows) throws Exception {
        ai.onnx.proto.OnnxMl.ModelProto.Builder model = baselineModel();
        model.getGraphBuilder()
                .getInputBuilder(0)
                .getTypeBuilder()
                .getTensorTypeBuilder()
                .getShapeBuilder()
                .getDimBuilder(0)
                .clearDimParam()
                .setDimValue(rows);
        return addVersion("v8-fixed-" + rows, model.build());
    }

    /**
     * The baseline with its input reshaped to one row first: it declares any number of rows, but
     * ONNX Runtime fails every call with more than one.
     */
    static String failsBatchesVersion() throws Exception {
        ai.onnx.proto.OnnxMl.ModelProto.Builder model = baselineModel();
        ai.onnx.proto.OnnxMl.GraphProto.Builder graph = model.getGraphBuilder();
        String input = graph.getInput(0).getName();
        String reshaped = input + "_one_row";
        for (int n = 0; n < graph.getNodeCount(); n++) {
            ai.onnx.proto.OnnxMl.NodeProto.Builder node = graph.getNodeBuilder(n);
            for (int k = 0; k < node.getInputCount(); k++) {
                if (node.getInput(k).equals(input)) {
                    node.setInput(k, reshaped);
                }
            }
        }
        graph.addInitializer(
                ai.onnx.proto.OnnxMl.TensorProto.newBuilder()
                        .setName("one_row_shape")
                        .setDataType(ai.onnx.proto.OnnxMl.TensorProto.DataType.INT64_VALUE)
                        .addDims(2)
                        .addInt64Data(1)
                        .addInt64Data(SyntheticFraud.FEATURES.size()));
        graph.addNode(
                0,
                ai.onnx.proto.OnnxMl.NodeProto.newBuilder()
                        .setName("one_row")
                        .setOpType("Reshape")
                        .addInput(input)
                        .addInput("one_row_shape")
                        .addOutput(reshaped));
        return addVersion("v8-fails-batches", model.build());
    }

    /** Sends {@code n} baseline events routed to {@code version}; returns them. */
    List<RoutedEvent> sendTo(String version, int n) throws Exception {
        List<RoutedEvent> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            RoutedEvent e = baselineEvent();
            RoutedEvent routed =
                    new RoutedEvent(
                            e.event(),
                            DemoModels.MODEL,
                            version,
                            Arm.BASELINE,
                            true,
                            null,
                            "plan-1",
                            7);
            sent.add(routed);
            harness.processElement(routed, 0);
        }
        return sent;
    }

    void assertScoredLikeTheBaseline(List<RoutedEvent> sent, String version) throws Exception {
        List<Prediction> out = predictions();
        assertThat(out)
                .extracting(Prediction::eventId)
                .containsExactlyElementsOf(sent.stream().map(r -> r.event().eventId()).toList());
        assertThat(out).allSatisfy(p -> assertThat(p.version()).isEqualTo(version));
        float[] expected = directScores(DemoModels.BASELINE, sent);
        for (int i = 0; i < sent.size(); i++) {
            assertThat(out.get(i).score()).isEqualTo(expected[i]);
        }
        assertThat(deadLetters()).isEmpty();
        assertThat(failures()).isEmpty();
    }

    @Test
    void shouldScoreEachRowAloneWhenOnnxRuntimeFailsTheBatch() throws Exception {
        String version = failsBatchesVersion();
        open(3, 1_000);
        // The batch of three fails in ONNX Runtime; every row is then scored alone.
        assertScoredLikeTheBaseline(sendTo(version, 3), version);
    }

    @Test
    void shouldScoreAModelExportedForOneRowOneEventAtATime() throws Exception {
        String version = fixedRowsVersion(1);
        open(3, 1_000);
        List<RoutedEvent> sent = sendTo(version, 1);
        // Its batches hold one row: the event is scored at once, without waiting for max-batch.
        assertScoredLikeTheBaseline(sent, version);
        sent.addAll(sendTo(version, 2));
        assertScoredLikeTheBaseline(sent, version);
    }

    @Test
    void shouldGiveAModelExportedForFourRowsBatchesOfFourAndPadAPartialOne() throws Exception {
        String version = fixedRowsVersion(4);
        open(3, 1_000);
        List<RoutedEvent> sent = sendTo(version, 3);
        assertThat(predictions()).isEmpty(); // the batch holds 4, not max-batch's 3
        sent.addAll(sendTo(version, 1));
        assertScoredLikeTheBaseline(sent, version);
        sent.addAll(sendTo(version, 2));
        harness.processWatermark(new Watermark(5_000));
        assertScoredLikeTheBaseline(sent, version);
    }
}
