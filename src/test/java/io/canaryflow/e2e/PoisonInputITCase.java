package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records of any size and shape, with the job's default limits: every bad one lands in the
 * dead-letter topic with its reason and a bounded copy of itself, every good one is scored, and the
 * job never restarts.
 */
class PoisonInputITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir static Path work;
    static KafkaTestCluster kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        TestModels.generate(work.resolve("models"));
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    static final String VALID =
            "{\"event_id\":\"%s\",\"unit\":\"u-%s\",\"experiment\":\"fraud\",\"ts\":1700000000000,\"features\":[1,2,3,4,5,6,7,8]}";

    /** One poison record: what it is, its bytes, the reason and a word its detail must hold. */
    record Poison(String name, byte[] bytes, String reason, String detail) {}

    static Poison poison(String name, String json, String reason, String detail) {
        return new Poison(name, json.getBytes(StandardCharsets.UTF_8), reason, detail);
    }

    static String valid(String id) {
        return String.format(VALID, id, id);
    }

    static List<Poison> featureCorpus() {
        List<Poison> corpus = new ArrayList<>();
        String good = valid("p");
        StringBuilder huge = new StringBuilder(1_000_000);
        huge.append("{\"event_id\":\"p-1mb\",\"unit\":\"u\",\"experiment\":\"fraud\",\"pad\":\"");
        while (huge.length() < 999_000) {
            huge.append("0123456789");
        }
        huge.append("\",\"features\":[1,2,3,4,5,6,7,8]}");
        corpus.add(poison("a 1 MB record", huge.toString(), "OVERSIZE", "limit is 65536"));
        StringBuilder keys = new StringBuilder("{\"event_id\":\"p-keys\",\"features\":{");
        for (int i = 0; i < 100_000; i++) {
            keys.append(i == 0 ? "" : ",")
                    .append("\"k")
                    .append(Integer.toString(i, 36))
                    .append("\":1");
        }
        keys.append("}}");
        corpus.add(poison("a 100,000-key object", keys.toString(), "OVERSIZE", "bytes"));
        corpus.add(
                poison(
                        "10,000-deep nesting",
                        good.replace(
                                "}", ",\"x\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}"),
                        "MALFORMED",
                        "nesting depth"));
        corpus.add(
                poison("a numeric event_id", good.replace("\"p\"", "17"), "MALFORMED", "event_id"));
        corpus.add(
                poison(
                        "a numeric experiment",
                        good.replace("\"fraud\"", "3"),
                        "MALFORMED",
                        "experiment"));
        corpus.add(poison("a boolean unit", good.replace("\"u-p\"", "true"), "MALFORMED", "unit"));
        corpus.add(
                poison(
                        "features as a string",
                        good.replace("[1,2,3,4,5,6,7,8]", "\"1,2\""),
                        "MALFORMED",
                        "'features'"));
        corpus.add(
                poison(
                        "a feature as a string",
                        good.replace("[1,2,", "[1,\"2\","),
                        "MALFORMED",
                        "features[1]"));
        corpus.add(
                poison(
                        "ts as a string",
                        good.replace("1700000000000", "\"1700000000000\""),
                        "MALFORMED",
                        "'ts'"));
        corpus.add(
                poison(
                        "ts beyond a long",
                        good.replace("1700000000000", "1" + "0".repeat(30)),
                        "MALFORMED",
                        "'ts'"));
        byte[] latin1 = good.replace("u-p", "u-Zoë").getBytes(StandardCharsets.ISO_8859_1);
        corpus.add(new Poison("invalid UTF-8", latin1, "MALFORMED", "UTF-8"));
        corpus.add(
                new Poison(
                        "UTF-16 with a byte-order mark",
                        good.getBytes(StandardCharsets.UTF_16),
                        "MALFORMED",
                        "UTF-8"));
        corpus.add(
                new Poison(
                        "UTF-16LE without one",
                        good.getBytes(StandardCharsets.UTF_16LE),
                        "MALFORMED",
                        "UTF-8"));
        corpus.add(
                new Poison(
                        "UTF-32",
                        good.getBytes(Charset.forName("UTF-32BE")),
                        "MALFORMED",
                        "UTF-8"));
        corpus.add(
                poison(
                        "a duplicate top-level key",
                        good.replace("\"ts\":", "\"unit\":\"u-q\",\"ts\":"),
                        "MALFORMED",
                        "'unit'"));
        corpus.add(
                poison(
                        "a duplicate feature",
                        "{\"event_id\":\"p\",\"unit\":\"u\",\"experiment\":\"fraud\",\"ts\":1,\"features\":{\"amount\":1,\"amount\":2}}",
                        "MALFORMED",
                        "'amount'"));
        corpus.add(
                poison(
                        "a number beyond double",
                        good.replace("[1,2,", "[1,1e400,"),
                        "NON_FINITE",
                        "Infinity"));
        corpus.add(
                poison(
                        "a 400-digit integer",
                        good.replace("[1,2,", "[1," + "9".repeat(400) + ","),
                        "NON_FINITE",
                        "Infinity"));
        corpus.add(
                poison(
                        "a 5,000-digit number",
                        good.replace("[1,2,", "[1," + "9".repeat(5_000) + ","),
                        "MALFORMED",
                        "Number value length"));
        corpus.add(
                poison(
                        "beyond float32",
                        good.replace("[1,2,", "[1,1e39,"),
                        "NON_FINITE",
                        "float32"));
        corpus.add(poison("a NaN token", good.replace("[1,2,", "[1,NaN,"), "NON_FINITE", "NaN"));
        corpus.add(
                poison(
                        "-Infinity",
                        good.replace("[1,2,", "[1,-Infinity,"),
                        "NON_FINITE",
                        "Infinity"));
        corpus.add(poison("truncated JSON", good.substring(0, 40), "MALFORMED", "JSON"));
        corpus.add(new Poison("a tombstone", null, "MALFORMED", "empty"));
        corpus.add(poison("an empty value", "", "MALFORMED", "empty"));
        corpus.add(poison("JSON null", "null", "MALFORMED", "null"));
        corpus.add(poison("a JSON array", "[1,2,3]", "MALFORMED", "an array"));
        corpus.add(poison("an empty object", "{}", "MALFORMED", "missing required field"));
        corpus.add(poison("trailing content", good + "{}", "MALFORMED", "trailing"));
        byte[] noise = new byte[3_000];
        new Random(9).nextBytes(noise);
        noise[0] = '{';
        corpus.add(new Poison("binary noise", noise, "MALFORMED", ""));
        corpus.add(
                poison(
                        "a missing feature",
                        "{\"event_id\":\"p\",\"unit\":\"u\",\"experiment\":\"fraud\",\"ts\":1,\"features\":{\"amount\":1}}",
                        "MISSING_FEATURE",
                        "missing feature"));
        corpus.add(
                poison(
                        "a wrong width",
                        good.replace("[1,2,3,4,5,6,7,8]", "[1,2,3]"),
                        "WRONG_WIDTH",
                        "has 3 values"));
        corpus.add(
                poison(
                        "an unknown experiment",
                        good.replace("\"fraud\"", "\"spam\""),
                        "UNKNOWN_EXPERIMENT",
                        "'spam'"));
        corpus.add(
                poison(
                        "a segment value too long",
                        good.replace(
                                "}", ",\"segment\":{\"country\":\"" + "x".repeat(300) + "\"}}"),
                        "MALFORMED",
                        "longer than"));
        corpus.add(
                poison(
                        "a segment value that is a number",
                        good.replace("}", ",\"segment\":{\"country\":49}}"),
                        "MALFORMED",
                        "segment 'country'"));
        return corpus;
    }

    static List<Poison> labelCorpus() {
        List<Poison> corpus = new ArrayList<>();
        corpus.add(
                poison(
                        "a 1 MB label",
                        "{\"event_id\":\"x\",\"label\":1,\"pad\":\""
                                + "y".repeat(1_000_000)
                                + "\"}",
                        "OVERSIZE",
                        "limit"));
        corpus.add(
                new Poison(
                        "a UTF-16 label",
                        "{\"event_id\":\"x\",\"label\":1}".getBytes(StandardCharsets.UTF_16),
                        "MALFORMED",
                        "UTF-8"));
        corpus.add(
                poison(
                        "a label with a duplicate key",
                        "{\"event_id\":\"x\",\"label\":1,\"label\":0}",
                        "MALFORMED",
                        "'label'"));
        corpus.add(
                poison(
                        "a label as a string",
                        "{\"event_id\":\"x\",\"label\":\"1\"}",
                        "MALFORMED",
                        "'label'"));
        corpus.add(
                poison("a NaN label", "{\"event_id\":\"x\",\"label\":NaN}", "NON_FINITE", "label"));
        return corpus;
    }

    @Test
    void shouldDeadLetterEveryPoisonRecordWithItsReasonScoreEveryGoodOneAndNeverRestart(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "poison";
        Map<String, String> c = InferenceJobITCase.config(kafka.clients(), work, name);
        kafka.clients().createTopic(name + "-labels", 2);
        c.put("kafka.topics.labels", name + "-labels");
        c.put("labels.enabled", "true");
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "50");
        JobConfig config = JobConfig.fromFlat(c); // default record and dead-letter limits

        List<Poison> features = featureCorpus();
        List<Poison> labels = labelCorpus();
        assertThat(features.size()).isGreaterThanOrEqualTo(20);
        List<byte[][]> records = new ArrayList<>();
        int goods = 0;
        for (Poison p : features) {
            for (int i = 0; i < 20; i++) {
                records.add(
                        new byte[][] {
                            null, valid("g-" + goods++).getBytes(StandardCharsets.UTF_8)
                        });
            }
            records.add(new byte[][] {null, p.bytes()});
        }
        // a valid event with a 60 KB event id is scored like any other
        String longId = "g-long-" + "i".repeat(60_000);
        records.add(
                new byte[][] {
                    null,
                    valid("x")
                            .replace("\"x\"", "\"" + longId + "\"")
                            .getBytes(StandardCharsets.UTF_8)
                });
        goods++;
        kafka.produce(name + "-features", records);
        List<byte[][]> labelRecords = new ArrayList<>();
        for (Poison p : labels) {
            labelRecords.add(new byte[][] {null, p.bytes()});
            labelRecords.add(
                    new byte[][] {
                        null,
                        "{\"event_id\":\"g-1\",\"label\":1,\"ts\":1700000000500}"
                                .getBytes(StandardCharsets.UTF_8)
                    });
        }
        kafka.produce(name + "-labels", labelRecords);

        assertThat(JobRun.runToCompletion(cluster, config, InferenceJobITCase.JOB_TIMEOUT))
                .as("restarts")
                .isZero();
        // a bounded job's checkpoints may only fail as its sources finish (see the runbook)
        assertThat(JobRun.lastFailedCheckpoints())
                .as("failed checkpoints")
                .allMatch(JobRun::causedByStartingOrFinishingTasks);

        int bad = features.size() + labels.size();
        List<JsonNode> deadLetters =
                InferenceJobITCase.values(
                        kafka.readCommitted(
                                name + "-dead-letters",
                                bad,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1)));
        assertThat(deadLetters).hasSize(bad);
        Map<String, JsonNode> bySha = new HashMap<>();
        for (JsonNode d : deadLetters) {
            bySha.put(
                    d.get("original_sha256").asText(null)
                            + "/"
                            + d.get("source").get("topic").asText(),
                    d);
        }
        Map<String, Poison> all = new LinkedHashMap<>();
        features.forEach(p -> all.put(sha(p.bytes()) + "/" + name + "-features", p));
        labels.forEach(p -> all.put(sha(p.bytes()) + "/" + name + "-labels", p));
        for (Map.Entry<String, Poison> e : all.entrySet()) {
            Poison p = e.getValue();
            JsonNode d = bySha.get(e.getKey());
            assertThat(d).as("dead letter for %s", p.name()).isNotNull();
            assertThat(d.get("reason").asText()).as(p.name()).isEqualTo(p.reason());
            assertThat(d.get("detail").asText()).as(p.name()).contains(p.detail());
            int length = p.bytes() == null ? 0 : p.bytes().length;
            assertThat(d.get("original_bytes").asLong()).as(p.name()).isEqualTo(length);
            if (length > 0) {
                byte[] kept = Base64.getDecoder().decode(d.get("original_base64").asText());
                assertThat(kept.length).isEqualTo(Math.min(length, 65_536));
                assertThat(kept).isEqualTo(java.util.Arrays.copyOf(p.bytes(), kept.length));
                assertThat(d.get("original_truncated").asBoolean()).isEqualTo(length > 65_536);
            }
        }

        List<JsonNode> predictions =
                InferenceJobITCase.values(
                        kafka.readCommitted(
                                name + "-predictions",
                                goods,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1)));
        assertThat(predictions).hasSize(goods);
        assertThat(predictions.stream().map(p -> p.get("event_id").asText()))
                .doesNotHaveDuplicates()
                .contains(longId, "g-0");
    }

    static String sha(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
