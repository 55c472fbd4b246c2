package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.records.FeatureEventJson;
import io.canaryflow.testing.FailOnceAfterCheckpoint;
import io.canaryflow.testing.FailingEndpoints;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaClients;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The inference job end to end: real KRaft broker, real MiniCluster, real ONNX models. */
class InferenceJobITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration JOB_TIMEOUT = Duration.ofMinutes(3);

    @TempDir static Path work;
    static KafkaTestCluster kafka;
    static ModelRepository repository;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        repository = TestModels.generate(work.resolve("models"));
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    static Map<String, String> config(String name) throws Exception {
        return config(kafka.clients(), work, name);
    }

    /** A job configuration for one test: its own topics, group and transactional ids. */
    static Map<String, String> config(KafkaClients kafka, Path work, String name) throws Exception {
        for (String topic : List.of("features", "predictions", "dead-letters", "monitoring")) {
            kafka.createTopic(name + "-" + topic, topic.equals("features") ? 2 : 1);
        }
        Map<String, String> c = new LinkedHashMap<>();
        c.put("job.parallelism", "2");
        c.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        c.put("kafka.group-id", name);
        c.put("kafka.bounded", "true");
        c.put("kafka.starting-offsets", "earliest");
        c.put("kafka.transactional-id-prefix", name);
        c.put("kafka.topics.features", name + "-features");
        c.put("kafka.topics.predictions", name + "-predictions");
        c.put("kafka.topics.dead-letters", name + "-dead-letters");
        c.put("kafka.topics.monitoring", name + "-monitoring");
        c.put("models.repository", work.resolve("models").toString());
        c.put("checkpoint.interval", "500 ms");
        c.put("checkpoint.directory", work.resolve("checkpoints-" + name).toUri().toString());
        return c;
    }

    record Sent(String eventId, String unit, float[] features) {}

    static List<Sent> sendEvents(
            String topic, String experiment, int events, int units, long seed) {
        return sendEvents(kafka.clients(), topic, experiment, events, units, seed);
    }

    static List<Sent> sendEvents(
            KafkaClients kafka, String topic, String experiment, int events, int units, long seed) {
        return sendEvents(kafka, topic, experiment, events, units, seed, 1_700_000_000_000L);
    }

    /** As above, the first event at {@code firstTs} and one per millisecond of event time after. */
    static List<Sent> sendEvents(
            KafkaClients kafka,
            String topic,
            String experiment,
            int events,
            int units,
            long seed,
            long firstTs) {
        SyntheticFraud data = new SyntheticFraud(seed);
        FeatureEventJson json = new FeatureEventJson();
        List<Sent> sent = new ArrayList<>();
        List<byte[][]> records = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            double[] row = data.next().features();
            String unit = "user-" + (i % units);
            String id = experiment + "-" + i;
            float[] asFloat = new float[row.length];
            for (int f = 0; f < row.length; f++) {
                asFloat[f] = (float) row[f];
            }
            sent.add(new Sent(id, unit, asFloat));
            records.add(
                    new byte[][] {
                        unit.getBytes(StandardCharsets.UTF_8),
                        json.write(
                                id,
                                unit,
                                experiment,
                                firstTs + i,
                                SyntheticFraud.FEATURES,
                                row,
                                Map.of("country", "DE"))
                    });
        }
        kafka.produce(topic, records);
        return sent;
    }

    static List<JsonNode> values(List<ConsumerRecord<byte[], byte[]>> records) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            out.add(JSON.readTree(r.value()));
        }
        return out;
    }

    @Test
    void shouldScoreEveryEventExactlyOnceOnItsUnitsArmWithOnnxRuntimesScores(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        CanaryScenario.run(cluster, kafka.clients(), repository, work, "canary");
    }

    @Test
    void shouldDeadLetterEveryBadRecordWithItsReasonScoreAllGoodOnesAndNeverRestart(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "bad-input";
        Map<String, String> c = config(name);
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "50");
        c.put("decode.max-record-bytes", "4096");
        JobConfig config = JobConfig.fromFlat(c);

        String valid =
                "{\"event_id\":\"%s\",\"unit\":\"u-%s\",\"experiment\":\"fraud\",\"ts\":1700000000000,\"features\":[%s]}";
        Map<String, String> corpus = new LinkedHashMap<>();
        corpus.put("MALFORMED", "{\"event_id\":\"bad-1\",\"unit\":");
        corpus.put(
                "MISSING_FEATURE",
                "{\"event_id\":\"bad-2\",\"unit\":\"u\",\"experiment\":\"fraud\",\"ts\":1,\"features\":{\"amount\":1}}");
        corpus.put("NON_FINITE", String.format(valid, "bad-3", "3", "NaN,1,1,1,1,1,1,1"));
        corpus.put("WRONG_WIDTH", String.format(valid, "bad-4", "4", "1,1,1"));
        corpus.put(
                "UNKNOWN_EXPERIMENT",
                "{\"event_id\":\"bad-5\",\"unit\":\"u\",\"experiment\":\"spam\",\"ts\":1,\"features\":[1,1,1,1,1,1,1,1]}");
        corpus.put(
                "OVERSIZE",
                String.format(valid, "bad-6", "6", "1,1,1,1,1,1,1,1") + " ".repeat(5000));
        // Finite inputs whose logits overflow: the model itself returns NaN for this row.
        corpus.put(
                "MODEL_FAILURE",
                String.format(valid, "bad-7", "7", "3e38,3e38,-3e38,3e38,3e38,3e38,3e38,3e38"));

        List<Sent> good = sendEvents(name + "-features", "fraud", 300, 100, 2);
        List<byte[][]> bad = new ArrayList<>();
        corpus.values()
                .forEach(v -> bad.add(new byte[][] {null, v.getBytes(StandardCharsets.UTF_8)}));
        kafka.produce(name + "-features", bad);
        good.addAll(
                sendEvents(name + "-features", "fraud", 300, 100, 3).stream().map(s -> s).toList());

        assertThat(JobRun.runToCompletion(cluster, config, JOB_TIMEOUT)).isZero();

        List<JsonNode> deadLetters =
                values(
                        kafka.readCommitted(
                                name + "-dead-letters",
                                corpus.size(),
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1)));
        Map<String, JsonNode> byReason = new HashMap<>();
        deadLetters.forEach(d -> byReason.put(d.get("reason").asText(), d));
        assertThat(deadLetters).hasSize(corpus.size());
        assertThat(byReason.keySet()).containsExactlyInAnyOrderElementsOf(corpus.keySet());
        for (Map.Entry<String, String> e : corpus.entrySet()) {
            JsonNode d = byReason.get(e.getKey());
            assertThat(
                            new String(
                                    java.util.Base64.getDecoder()
                                            .decode(d.get("original_base64").asText()),
                                    StandardCharsets.UTF_8))
                    .isEqualTo(e.getValue());
            assertThat(d.get("source").get("topic").asText()).isEqualTo(name + "-features");
            assertThat(d.get("detail").asText()).isNotBlank();
        }

        // Both batches of good events carry ids 0..299 per seed; count them all.
        List<JsonNode> predictions =
                values(
                        kafka.readCommitted(
                                name + "-predictions",
                                600,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1)));
        assertThat(predictions).hasSize(600);
        assertThat(predictions)
                .allSatisfy(p -> assertThat(Float.isFinite(p.get("score").floatValue())).isTrue());
    }

    @Test
    void shouldKeepServingFromBaselineWhenCandidatesCannotBeLoaded(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "broken-models";
        Path models = Path.of(repository.uri()).resolve(DemoModels.MODEL);
        // A checksum mismatch, a corrupt file, and a manifest whose input name is wrong.
        copyVersion(models, "v9-tampered");
        Files.write(
                models.resolve("v9-tampered/model.onnx"),
                new byte[] {1},
                java.nio.file.StandardOpenOption.APPEND);
        copyVersion(models, "v9-corrupt");
        byte[] garbage = "not a model".getBytes(StandardCharsets.UTF_8);
        String oldSha =
                io.canaryflow.modelloader.Checksums.sha256Hex(
                        Files.readAllBytes(models.resolve("v9-corrupt/model.onnx")));
        Files.write(models.resolve("v9-corrupt/model.onnx"), garbage);
        replace(
                models.resolve("v9-corrupt/manifest.json"),
                oldSha,
                io.canaryflow.modelloader.Checksums.sha256Hex(garbage));
        copyVersion(models, "v9-mismatch");
        replace(
                models.resolve("v9-mismatch/manifest.json"),
                "\"input\" : \"input\"",
                "\"input\" : \"x\"");

        Map<String, String> c = config(name);
        List<String> experiments = List.of("tampered", "corrupt", "mismatch");
        for (String e : experiments) {
            c.put("experiments." + e + ".model", DemoModels.MODEL);
            c.put("experiments." + e + ".baseline", DemoModels.BASELINE);
            c.put("experiments." + e + ".candidate", "v9-" + e);
            c.put("experiments." + e + ".canary-percent", "50");
        }
        JobConfig config = JobConfig.fromFlat(c);
        int perExperiment = 200;
        for (String e : experiments) {
            sendEvents(name + "-features", e, perExperiment, 50, e.hashCode());
        }

        assertThat(JobRun.runToCompletion(cluster, config, JOB_TIMEOUT)).isZero();

        List<JsonNode> predictions =
                values(
                        kafka.readCommitted(
                                name + "-predictions",
                                3 * perExperiment,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1)));
        assertThat(predictions).hasSize(3 * perExperiment);
        assertThat(predictions)
                .allSatisfy(
                        p -> assertThat(p.get("version").asText()).isEqualTo(DemoModels.BASELINE));
        Map<String, Long> fallbacks = new HashMap<>();
        for (String e : experiments) {
            long fellBack =
                    predictions.stream()
                            .filter(
                                    p ->
                                            p.get("experiment").asText().equals(e)
                                                    && p.has("fallback_from"))
                            .peek(
                                    p ->
                                            assertThat(p.get("fallback_from").asText())
                                                    .isEqualTo("v9-" + e))
                            .count();
            assertThat(fellBack).isGreaterThan(0);
            fallbacks.put(e, fellBack);
        }
        // Monitoring counts each fallback as an inference error of the candidate that failed.
        Map<String, Long> unavailable = new HashMap<>();
        for (JsonNode r :
                values(
                        kafka.readCommitted(
                                name + "-monitoring",
                                1,
                                Duration.ofSeconds(3),
                                Duration.ofMinutes(1)))) {
            if (r.get("version").asText().startsWith("v9-")) {
                assertThat(r.get("arm").asText()).isEqualTo("candidate");
                assertThat(r.get("n").asLong()).isZero();
                assertThat(r.get("errors").get("rate").asDouble()).isEqualTo(1.0);
                unavailable.merge(
                        r.get("experiment").asText(),
                        r.get("errors").get("unavailable").asLong(),
                        Long::sum);
            }
        }
        assertThat(unavailable).isEqualTo(fallbacks);
        assertThat(
                        kafka.readCommitted(
                                name + "-dead-letters",
                                0,
                                Duration.ofSeconds(1),
                                Duration.ofSeconds(5)))
                .isEmpty();
    }

    @Test
    void shouldNeitherLoseNorDuplicateAPredictionWhenATaskFailsMidStream(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "recovery";
        Map<String, String> c = config(name);
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "30");
        c.put("checkpoint.interval", "100 ms");
        JobConfig config = JobConfig.fromFlat(c);
        int events = 60_000;
        sendEvents(name + "-features", "fraud", events, 1_000, 4);
        FailOnceAfterCheckpoint.reset();

        int restarts =
                JobRun.runToCompletion(
                        cluster,
                        config,
                        JOB_TIMEOUT,
                        kafkaEndpoints -> new FailingEndpoints(kafkaEndpoints, events / 4));

        assertThat(FailOnceAfterCheckpoint.FAILED).isTrue();
        assertThat(restarts).isPositive();
        List<JsonNode> predictions =
                values(
                        kafka.readCommitted(
                                name + "-predictions",
                                events,
                                Duration.ofSeconds(3),
                                Duration.ofMinutes(1)));
        Set<String> ids = new HashSet<>();
        predictions.forEach(p -> ids.add(p.get("event_id").asText()));
        assertThat(ids).hasSize(events);
        assertThat(predictions).hasSize(events);
        // The monitoring windows count every event once as well, across the failure.
        long monitored = 0;
        for (JsonNode report :
                values(
                        kafka.readCommitted(
                                name + "-monitoring",
                                1,
                                Duration.ofSeconds(3),
                                Duration.ofMinutes(1)))) {
            monitored += report.get("n").asLong();
        }
        assertThat(monitored).isEqualTo(events);
    }

    @Test
    void shouldReportPsiAlertForTheShiftedFeatureOnlyAndOnlyAfterTheShift(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "drift";
        Map<String, String> c = config(name);
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "20");
        c.put("monitoring.window", "1 s");
        JobConfig config = JobConfig.fromFlat(c);
        // 8 one-second windows of 1,000 events; from the fifth on, 'amount' is shifted by +1
        // (about one standard deviation of its distribution).
        int events = 8_000;
        int amount = SyntheticFraud.FEATURES.indexOf("amount");
        SyntheticFraud data = new SyntheticFraud(21);
        FeatureEventJson json = new FeatureEventJson();
        List<byte[][]> records = new ArrayList<>();
        long base = 1_700_000_000_000L;
        for (int i = 0; i < events; i++) {
            double[] row = data.next().features();
            if (i >= events / 2) {
                row[amount] += 1.0;
            }
            String unit = "user-" + (i % 1_000);
            records.add(
                    new byte[][] {
                        unit.getBytes(StandardCharsets.UTF_8),
                        json.write(
                                "d-" + i,
                                unit,
                                "fraud",
                                base + i,
                                SyntheticFraud.FEATURES,
                                row,
                                Map.of())
                    });
        }
        kafka.produce(name + "-features", records);

        assertThat(JobRun.runToCompletion(cluster, config, JOB_TIMEOUT)).isZero();

        long started = System.currentTimeMillis() - 60_000;
        List<ConsumerRecord<byte[], byte[]>> reported =
                kafka.readCommitted(
                        name + "-monitoring", 24, Duration.ofSeconds(2), Duration.ofMinutes(1));
        // Report time, not the (2023) window time, is the Kafka timestamp: retention must not
        // see it.
        assertThat(reported).allSatisfy(r -> assertThat(r.timestamp()).isGreaterThan(started));
        List<JsonNode> reports = values(reported);
        List<JsonNode> baseline =
                reports.stream()
                        .filter(r -> r.get("arm").asText().equals("baseline"))
                        .sorted(
                                java.util.Comparator.comparingLong(
                                        r -> r.get("window_start").asLong()))
                        .toList();
        assertThat(baseline).hasSize(8);
        long total = 0;
        for (JsonNode r : reports) {
            total += r.get("n").asLong();
        }
        assertThat(total).isEqualTo(events);
        for (int w = 0; w < 8; w++) {
            JsonNode report = baseline.get(w);
            assertThat(report.get("window_start").asLong()).isEqualTo(base + w * 1_000L);
            assertThat(report.get("version").asText()).isEqualTo(DemoModels.BASELINE);
            JsonNode features = report.get("features");
            for (String feature : SyntheticFraud.FEATURES) {
                JsonNode f = features.get(feature);
                assertThat(f.get("n").asLong()).isEqualTo(report.get("n").asLong());
                double psi = f.get("psi").asDouble();
                if (feature.equals("amount") && w >= 4) {
                    assertThat(psi).as("window %d %s", w, feature).isGreaterThan(0.25);
                    assertThat(f.get("level").asText()).isEqualTo("ALERT");
                } else {
                    assertThat(psi).as("window %d %s", w, feature).isLessThan(0.1);
                    assertThat(f.get("level").asText()).isEqualTo("OK");
                }
            }
            assertThat(report.get("latency_us").get("p99").asDouble()).isPositive();
        }
    }

    @Test
    void shouldJoinLateLabelsAndReportTheLabelErrorRateOfTheSentData(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "labels";
        Map<String, String> c = config(name);
        kafka.clients().createTopic(name + "-labels", 2);
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "20");
        c.put("monitoring.window", "1 s");
        c.put("monitoring.min-count", "1");
        c.put("labels.enabled", "true");
        c.put("kafka.topics.labels", name + "-labels");
        c.put("labels.horizon", "3 s");
        JobConfig config = JobConfig.fromFlat(c);
        long horizon = 3_000;

        // 6 s of event time; two events in three get a label, one label in five of those after
        // the horizon (late), the others within it.
        int events = 6_000;
        SyntheticFraud data = new SyntheticFraud(33);
        FeatureEventJson json = new FeatureEventJson();
        List<byte[][]> features = new ArrayList<>();
        Map<String, Boolean> truth = new HashMap<>();
        Map<String, Long> labelDelay = new HashMap<>();
        List<long[]> labelOrder = new ArrayList<>(); // {label ts, event index}
        long base = 1_700_000_000_000L;
        for (int i = 0; i < events; i++) {
            SyntheticFraud.Row row = data.next();
            String unit = "user-" + (i % 800);
            String id = "l-" + i;
            features.add(
                    new byte[][] {
                        unit.getBytes(StandardCharsets.UTF_8),
                        json.write(
                                id,
                                unit,
                                "fraud",
                                base + i,
                                SyntheticFraud.FEATURES,
                                row.features(),
                                Map.of())
                    });
            if (i % 3 != 0) {
                long delay = i % 5 == 0 ? 3_500 + (i * 37L) % 1_400 : 200 + (i * 37L) % 2_700;
                truth.put(id, row.fraud());
                labelDelay.put(id, delay);
                labelOrder.add(new long[] {base + i + delay, i});
            }
        }
        labelOrder.sort(java.util.Comparator.comparingLong((long[] l) -> l[0]));
        List<byte[][]> labels = new ArrayList<>();
        for (long[] l : labelOrder) {
            String id = "l-" + l[1];
            labels.add(
                    new byte[][] {
                        id.getBytes(StandardCharsets.UTF_8),
                        String.format(
                                        "{\"event_id\":\"%s\",\"label\":%s,\"ts\":%d}",
                                        id, truth.get(id) ? "1" : "0", l[0])
                                .getBytes(StandardCharsets.UTF_8)
                    });
        }
        labels.add(new byte[][] {null, "{\"event_id\":\"l-1\"".getBytes(StandardCharsets.UTF_8)});
        kafka.produce(name + "-features", features);
        kafka.produce(name + "-labels", labels);

        assertThat(JobRun.runToCompletion(cluster, config, JOB_TIMEOUT)).isZero();

        // What the labels say, computed directly from the sent data and the scores served.
        Map<String, long[]> expected = new HashMap<>(); // series -> {n, joined, wrong, late}
        for (JsonNode p :
                values(
                        kafka.readCommitted(
                                name + "-predictions",
                                events,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1)))) {
            String id = p.get("event_id").asText();
            long[] e =
                    expected.computeIfAbsent(
                            p.get("version").asText() + "/" + p.get("arm").asText(),
                            k -> new long[4]);
            e[0]++;
            if (truth.containsKey(id)) {
                if (labelDelay.get(id) <= horizon) {
                    e[1]++;
                    boolean predicted = p.get("score").asDouble() >= 0.5;
                    if (predicted != truth.get(id)) {
                        e[2]++;
                    }
                } else {
                    e[3]++;
                }
            }
        }
        assertThat(expected.keySet())
                .containsExactlyInAnyOrder(
                        DemoModels.BASELINE + "/baseline",
                        DemoModels.BASELINE + "/control",
                        DemoModels.GOOD_CANDIDATE + "/candidate");

        // What the monitoring topic says, added up over each series' windows.
        Map<String, long[]> reported = new HashMap<>(); // {opened, joined, wrong, late, expired}
        Map<String, JsonNode> last = new HashMap<>();
        for (JsonNode r :
                values(
                        kafka.readCommitted(
                                name + "-monitoring",
                                1,
                                Duration.ofSeconds(3),
                                Duration.ofMinutes(1)))) {
            if (!r.get("report").asText().equals("labels")) {
                assertThat(r.has("labels")).isFalse(); // window reports never wait for labels
                continue;
            }
            String series = r.get("version").asText() + "/" + r.get("arm").asText();
            JsonNode l = r.get("labels");
            long[] t = reported.computeIfAbsent(series, k -> new long[5]);
            t[0] += l.get("opened").asLong();
            t[1] += l.get("joined").asLong();
            if (l.get("joined").asLong() > 0) {
                t[2] += Math.round(l.get("error_rate").asDouble() * l.get("joined").asLong());
            }
            t[3] += l.get("late").asLong();
            t[4] += l.get("expired").asLong();
            JsonNode previous = last.get(series);
            if (previous == null
                    || previous.get("window_start").asLong() < r.get("window_start").asLong()) {
                last.put(series, r);
            }
        }
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            long[] want = e.getValue();
            long[] got = reported.get(e.getKey());
            assertThat(got).as(e.getKey()).isNotNull();
            assertThat(got[0]).as("%s opened", e.getKey()).isEqualTo(want[0]);
            assertThat(got[1]).as("%s joined", e.getKey()).isEqualTo(want[1]);
            assertThat(got[2]).as("%s misclassified", e.getKey()).isEqualTo(want[2]);
            assertThat(got[3]).as("%s late", e.getKey()).isEqualTo(want[3]);
            // every prediction without a label in time expired; none is still pending
            assertThat(got[4]).as("%s expired", e.getKey()).isEqualTo(want[0] - want[1]);
            assertThat(last.get(e.getKey()).get("labels").get("pending").asLong()).isZero();
        }
        long joined = expected.values().stream().mapToLong(v -> v[1]).sum();
        assertThat(joined).isGreaterThan(3_000); // the check above covered real joins

        List<JsonNode> dead =
                values(
                        kafka.readCommitted(
                                name + "-dead-letters",
                                1,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1)));
        assertThat(dead)
                .singleElement()
                .satisfies(
                        d -> {
                            assertThat(d.get("reason").asText()).isEqualTo("MALFORMED");
                            assertThat(d.get("source").get("topic").asText())
                                    .isEqualTo(name + "-labels");
                        });
    }

    static void copyVersion(Path models, String version) throws Exception {
        Path to = models.resolve(version);
        Files.createDirectories(to);
        Files.copy(models.resolve(DemoModels.BASELINE + "/model.onnx"), to.resolve("model.onnx"));
        Files.writeString(
                to.resolve("manifest.json"),
                Files.readString(models.resolve(DemoModels.BASELINE + "/manifest.json"))
                        .replace(
                                "\"version\" : \"" + DemoModels.BASELINE + "\"",
                                "\"version\" : \"" + version + "\""));
    }

    static void replace(Path file, String from, String to) throws Exception {
        String text = Files.readString(file);
        assertThat(text).contains(from);
        Files.writeString(file, text.replace(from, to));
    }
}
