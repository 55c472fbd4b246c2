package io.canaryflow.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelArtifact;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelSession;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.modelloader.SessionCache;
import io.canaryflow.modelloader.SessionConfig;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.RoutedEvent;
import io.canaryflow.operators.records.SourceRecord;
import io.canaryflow.operators.routing.RolloutPlan;
import io.canaryflow.operators.scoring.BatchScorer;
import io.canaryflow.operators.scoring.BatchScoringOperator;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Scoring throughput, as a ratio against raw ONNX Runtime on the same model, batch size and
 * machine, measured in the same run: raw = a tight loop of {@code run()} over a reused direct
 * buffer; scorer = {@link BatchScorer} fed routed events one by one (gathering features into its
 * batch, scoring, building predictions), with the split of its time between ONNX Runtime and its
 * own work; operator = {@link BatchScoringOperator} in a real Flink job chained as in the inference
 * job. Rounds alternate the three; the median of each is reported, and as ratios the median of each
 * round's ratio to that round's raw figure.
 *
 * <p>Run with {@code bin/benchmark} (or {@code bin/benchmark scoring}).
 */
public final class ScoringBenchmark {
    /** Batch sizes; {@code -Dbench.batches=256} measures one. */
    static final int[] BATCHES =
            Arrays.stream(System.getProperty("bench.batches", "1,64,256,1024").split(","))
                    .mapToInt(b -> Integer.parseInt(b.trim()))
                    .toArray();

    /** Alternating rounds per measurement, medians reported; {@code -Dbench.rounds=9}. */
    static final int ROUNDS = Integer.getInteger("bench.rounds", 5);

    static final long ROUND_NANOS = 1_000_000_000L;
    static final Map<String, ExperimentSchema> SCHEMAS =
            Map.of(
                    "bench",
                    new ExperimentSchema("bench", DemoModels.MODEL, SyntheticFraud.FEATURES));

    public static void main(String[] args) throws Exception {
        Path repo = Files.createTempDirectory("canaryflow-bench-models");
        DemoModels.generate(repo, 7, 40_000, 10_000);
        ModelRepository repository = ModelRepository.at(repo.toString());
        List<String> ratios = new ArrayList<>();
        ratios.add(
                "| model | batch | raw ONNX Runtime rows/s | scorer (BatchScorer) rows/s | ratio | scorer operator in a Flink job rows/s | ratio |");
        ratios.add("|---|---:|---:|---:|---:|---:|---:|");
        List<String> split = new ArrayList<>();
        split.add(
                "| model | batch | raw ONNX Runtime ns/row | scorer ns/row | of which in ONNX Runtime | of which the scorer's own |");
        split.add("|---|---:|---:|---:|---:|---:|");
        for (String version : List.of(DemoModels.BASELINE, DemoModels.GOOD_CANDIDATE)) {
            ModelArtifact artifact = repository.read(new ModelVersion(DemoModels.MODEL, version));
            float[][] rows = rows(4096);
            for (int batch : BATCHES) {
                double[] raw = new double[ROUNDS];
                double[] core = new double[ROUNDS];
                double[] inOrt = new double[ROUNDS];
                double[] own = new double[ROUNDS];
                double[] scorer = new double[ROUNDS];
                double[] coreRatio = new double[ROUNDS];
                double[] scorerRatio = new double[ROUNDS];
                for (int r = 0; r < ROUNDS; r++) {
                    raw[r] = rawOrt(artifact, rows, batch);
                    Measured clocked = core(repository, version, rows, batch);
                    core[r] = clocked.rowsPerSecond();
                    inOrt[r] = clocked.nanosPerRowInOrt();
                    own[r] = 1e9 / clocked.rowsPerSecond() - clocked.nanosPerRowInOrt();
                    scorer[r] = chained(repository, version, rows, batch, true);
                    // This machine's speed drifts: compare each round with its own raw figure.
                    coreRatio[r] = core[r] / raw[r];
                    scorerRatio[r] = scorer[r] / raw[r];
                }
                double rawRate = median(raw);
                double coreRate = median(core);
                double scorerRate = median(scorer);
                String model = DemoModels.MODEL + "/" + version;
                String line =
                        String.format(
                                "| %s | %d | %,.0f | %,.0f | %.2f | %,.0f | %.2f |",
                                model,
                                batch,
                                rawRate,
                                coreRate,
                                median(coreRatio),
                                scorerRate,
                                median(scorerRatio));
                System.out.println(line);
                ratios.add(line);
                split.add(
                        String.format(
                                "| %s | %d | %.1f | %.1f | %.1f | %.1f |",
                                model,
                                batch,
                                1e9 / rawRate,
                                1e9 / coreRate,
                                median(inOrt),
                                median(own)));
            }
        }
        System.out.println();
        System.out.println(String.join("\n", ratios));
        System.out.println();
        System.out.println(String.join("\n", split));
        double[] chain = new double[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            chain[r] = chained(repository, DemoModels.BASELINE, rows(4096), 256, false);
        }
        System.out.printf(
                "%nThe same Flink job without the scorer operator passes %,.0f records/s.%n",
                median(chain));
        System.out.printf(
                "%nOne read of System.nanoTime (the scorer reads it once per event for the"
                        + " event's latency, and twice per batch): %.1f ns%n",
                nanoTimeCost());
    }

    /** Nanoseconds per {@code System.nanoTime()} call, median of {@link #ROUNDS} loops. */
    static double nanoTimeCost() {
        double[] cost = new double[ROUNDS];
        long sink = 0;
        for (int r = 0; r < ROUNDS; r++) {
            int calls = 20_000_000;
            long start = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                sink += System.nanoTime();
            }
            cost[r] = (System.nanoTime() - start) / (double) calls;
        }
        if (sink == 42) {
            System.out.println();
        }
        return median(cost);
    }

    /** A scorer run: rows per second, and nanoseconds per row spent inside ONNX Runtime. */
    record Measured(double rowsPerSecond, double nanosPerRowInOrt) {}

    static float[][] rows(int n) {
        SyntheticFraud data = new SyntheticFraud(3);
        float[][] rows = new float[n][];
        for (int i = 0; i < n; i++) {
            double[] d = data.next().features();
            rows[i] = new float[d.length];
            for (int c = 0; c < d.length; c++) {
                rows[i][c] = (float) d[c];
            }
        }
        return rows;
    }

    /**
     * Raw ONNX Runtime: one session, input and output tensors created once over direct buffers (the
     * output pinned, so ORT writes into it), {@code run()} in a tight loop, every score read.
     */
    static double rawOrt(ModelArtifact artifact, float[][] rows, int batch) throws Exception {
        Manifest m = artifact.manifest();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(artifact.modelBytes(), options)) {
                int width = m.width();
                FloatBuffer input = ModelSession.newInputBuffer(batch, width);
                for (int r = 0; r < batch; r++) {
                    input.put(r * width, rows[r % rows.length]);
                }
                FloatBuffer output = ModelSession.newInputBuffer(batch, 2);
                try (OnnxTensor in =
                                OnnxTensor.createTensor(env, input, new long[] {batch, width});
                        OnnxTensor out =
                                OnnxTensor.createTensor(env, output, new long[] {batch, 2})) {
                    Map<String, OnnxTensor> inputs = Map.of(m.input(), in);
                    Map<String, OnnxTensor> pinned = Map.of(m.output(), out);
                    double[] sink = new double[1];
                    double rate =
                            rowsPerSecond(
                                    batch,
                                    () -> {
                                        session.run(inputs, Set.of(), pinned).close();
                                        for (int r = 0; r < batch; r++) {
                                            sink[0] += output.get(r * 2 + m.scoreColumn());
                                        }
                                    });
                    if (Double.isNaN(sink[0])) {
                        throw new IllegalStateException("NaN score");
                    }
                    return rate;
                }
            }
        }
    }

    static RoutedEvent[] events(String version, float[][] rows) {
        RoutedEvent[] events = new RoutedEvent[rows.length];
        for (int i = 0; i < rows.length; i++) {
            FeatureEvent e =
                    new FeatureEvent(
                            "e-" + i,
                            "u-" + i,
                            "bench",
                            i,
                            rows[i],
                            Map.of(),
                            new SourceRecord(null, null, "features", 0, i, i));
            events[i] =
                    new RoutedEvent(
                            e,
                            DemoModels.MODEL,
                            version,
                            Arm.BASELINE,
                            true,
                            null,
                            "bench-plan",
                            1);
        }
        return events;
    }

    /**
     * The scorer's Flink-free core with max-batch = {@code batch}, on the real clocks; predictions
     * go to a counting sink.
     */
    static Measured core(ModelRepository repository, String version, float[][] rows, int batch)
            throws Exception {
        RoutedEvent[] events = events(version, rows);
        long[] sink = new long[2];
        BatchScorer.InferenceCounters[] counters = new BatchScorer.InferenceCounters[1];
        BatchScorer.Emitter emitter =
                new BatchScorer.Emitter() {
                    @Override
                    public void prediction(Prediction p) {
                        sink[0] += p.latencyUs();
                    }

                    @Override
                    public void deadLetter(io.canaryflow.operators.records.DeadLetter d) {
                        sink[1]++;
                    }

                    @Override
                    public void failure(Prediction failed) {
                        sink[1]++;
                    }
                };
        try (BatchScorer scorer =
                new BatchScorer(
                        repository,
                        new SessionConfig(io.canaryflow.modelloader.Device.CPU, 0, 1, 3),
                        SCHEMAS,
                        batch,
                        SessionCache.shared(),
                        System::nanoTime,
                        System::currentTimeMillis,
                        new BatchScorer.LoadListener() {
                            @Override
                            public void loaded(
                                    String experiment,
                                    ModelVersion id,
                                    ModelSession session,
                                    BatchScorer.InferenceCounters c) {
                                counters[0] = c;
                            }

                            @Override
                            public void failed(String experiment, ModelVersion id, String error) {
                                throw new IllegalStateException(error);
                            }
                        })) {
            scorer.preload("bench", DemoModels.MODEL, version);
            int[] next = new int[1];
            long[] atStart = new long[2];
            double rate =
                    rowsPerSecond(
                            batch,
                            () -> {
                                for (int k = 0; k < batch; k++) {
                                    scorer.add(events[next[0]], emitter);
                                    if (++next[0] == events.length) {
                                        next[0] = 0;
                                    }
                                }
                            },
                            () -> {
                                atStart[0] = counters[0].nanos();
                                atStart[1] = counters[0].rows();
                            });
            if (sink[1] > 0) {
                throw new IllegalStateException(sink[1] + " rows failed");
            }
            return new Measured(
                    rate,
                    (counters[0].nanos() - atStart[0])
                            / (double) (counters[0].rows() - atStart[1]));
        }
    }

    /** Events the chained jobs emit, by index; set before each job (the jobs run in this JVM). */
    static volatile RoutedEvent[] chainEvents;

    /** First and last record times seen by {@link TimingSink} in the current job, and its count. */
    static volatile long firstNanos;

    static volatile long lastNanos;
    static volatile long sunk;

    /**
     * The scorer operator in a real Flink job on a local MiniCluster, chained as in the inference
     * job with object reuse on: a number sequence mapped to routed events, the operator, and a sink
     * that only times records; rows per second between the sink's first and last record. With
     * {@code scorer} false the operator is left out, which shows what the chain itself costs.
     */
    static double chained(
            ModelRepository repository, String version, float[][] rows, int batch, boolean scorer)
            throws Exception {
        chainEvents = events(version, rows);
        firstNanos = 0;
        sunk = 0;
        // About two seconds of work at each batch size.
        long records =
                scorer ? Math.max(200_000L, Math.min(4_000_000L, batch * 16_000L)) : 20_000_000L;
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.OBJECT_REUSE, true);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(1, conf);
        DataStream<RoutedEvent> events =
                env.fromSequence(0, records - 1)
                        .map(i -> chainEvents[(int) (i % chainEvents.length)])
                        .returns(RoutedEvent.class);
        if (scorer) {
            RolloutPlan plan =
                    new RolloutPlan(
                            "bench-plan",
                            "bench",
                            DemoModels.MODEL,
                            RolloutPlan.Mode.CANARY,
                            "s",
                            version,
                            version,
                            0,
                            null);
            events.transform(
                            "score",
                            TypeInformation.of(Prediction.class),
                            new BatchScoringOperator(
                                    repository,
                                    new SessionConfig(
                                            io.canaryflow.modelloader.Device.CPU, 0, 1, 3),
                                    SCHEMAS,
                                    List.of(plan),
                                    batch,
                                    60_000))
                    .sinkTo(new TimingSink<>());
        } else {
            events.sinkTo(new TimingSink<>());
        }
        env.execute("scoring benchmark");
        if (sunk != records) {
            throw new IllegalStateException(sunk + " records reached the sink, not " + records);
        }
        return (records - 1) * 1e9 / (lastNanos - firstNanos);
    }

    /** Counts records and keeps the times of the first and the last; parallelism 1 only. */
    static final class TimingSink<T> implements Sink<T> {
        @Override
        public SinkWriter<T> createWriter(WriterInitContext context) {
            return new SinkWriter<>() {
                long count;
                long last;

                @Override
                public void write(T element, Context context) {
                    last = System.nanoTime();
                    if (count++ == 0) {
                        firstNanos = last;
                    }
                }

                @Override
                public void flush(boolean endOfInput) {
                    lastNanos = last;
                    sunk = count;
                }

                @Override
                public void close() {}
            };
        }
    }

    /** One call of a measured loop, scoring {@code rows} rows. */
    interface Call {
        void run() throws Exception;
    }

    /** Runs {@code call} for a quarter round to warm up, then for a round; rows per second. */
    static double rowsPerSecond(int rowsPerCall, Call call) throws Exception {
        return rowsPerSecond(rowsPerCall, call, () -> {});
    }

    /** As {@link #rowsPerSecond(int, Call)}, running {@code measuring} after the warm-up. */
    static double rowsPerSecond(int rowsPerCall, Call call, Runnable measuring) throws Exception {
        long warmUpUntil = System.nanoTime() + ROUND_NANOS / 4;
        while (System.nanoTime() < warmUpUntil) {
            call.run();
        }
        measuring.run();
        long rows = 0;
        long start = System.nanoTime();
        long end = start + ROUND_NANOS;
        long now;
        do {
            call.run();
            rows += rowsPerCall;
            now = System.nanoTime();
        } while (now < end);
        return rows * 1e9 / (now - start);
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
