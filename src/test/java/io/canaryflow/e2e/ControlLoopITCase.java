package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.control.Command;
import io.canaryflow.operators.control.CommandSigner;
import io.canaryflow.operators.control.ControlCodec;
import io.canaryflow.operators.control.DecisionSigner;
import io.canaryflow.operators.control.DecisionVerifier;
import io.canaryflow.operators.records.FeatureEventJson;
import io.canaryflow.testing.FailOnceAfterCheckpoint;
import io.canaryflow.testing.FailingEndpoints;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The closed loop on a real broker and MiniCluster, in event time with a fast clock: the job judges
 * two canaries from its own monitoring, publishes its decisions to the control topic, reads them
 * back and routes by them. A good candidate is advanced to promotion; a candidate that is wrong far
 * more often (by its late labels) is rolled back; a forged command is rejected. Every decision is
 * signed with the configured key, and decisions the job did not sign (another key, a forged
 * signature, none) change no routing.
 */
class ControlLoopITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    static final String KEY = "control-loop-test-key-0123456789";

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

    @Test
    void shouldPromoteAGoodCandidateRollBackABadOneAndRouteByItsOwnDecisions() throws Exception {
        String name = "loop";
        Map<String, String> c = InferenceJobITCase.config(kafka.clients(), work, name);
        kafka.clients().createTopic(name + "-control", 1);
        kafka.clients().createTopic(name + "-labels", 2);
        c.put("kafka.bounded", "false");
        c.put("kafka.topics.control", name + "-control");
        c.put("kafka.topics.labels", name + "-labels");
        c.put("checkpoint.interval", "300 ms");
        // the default idle timeout: the control topic's time is not event time (see
        // docs/event-time.md), and every features and labels partition gets records
        c.put("monitoring.window", "1 s");
        c.put("monitoring.min-count", "20");
        c.put("labels.enabled", "true");
        c.put("labels.horizon", "2 s");
        c.put("control.enabled", "true");
        c.put("control.key", KEY);
        DecisionSigner signer = DecisionSigner.generate();
        Path signingKey = work.resolve("decision-signing-key.pem");
        java.nio.file.Files.writeString(signingKey, signer.toPem());
        c.put("control.signing-key-file", signingKey.toString());
        for (String e : List.of("good", "bad")) {
            c.put("experiments." + e + ".model", DemoModels.MODEL);
            c.put("experiments." + e + ".baseline", DemoModels.BASELINE);
            c.put("experiments." + e + ".canary-percent", "10");
            c.put("experiments." + e + ".schedule", "10,50,100");
            c.put("experiments." + e + ".min-step-duration", "2 s");
            c.put("experiments." + e + ".min-samples", "300");
        }
        c.put("experiments.good.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.good.guardrails", "inference_error_rate:0.01:critical");
        c.put("experiments.bad.candidate", DemoModels.BAD_CANDIDATE);
        c.put("experiments.bad.guardrails", "label_error_rate:0.05:critical:tau=0.05");
        JobConfig config = JobConfig.fromFlat(c);

        // One task failure mid-rollout: the job recovers from its last checkpoint, re-judges the
        // windows after it, and must still publish each decision exactly once.
        FailOnceAfterCheckpoint.reset();
        JobClient job = JobRun.start(config, e -> new FailingEndpoints(e, 14_000));
        int seconds = 24;
        int perSecond = 2_000;
        long base = 1_700_000_000_000L;
        SyntheticFraud data = new SyntheticFraud(5);
        FeatureEventJson json = new FeatureEventJson();
        try {
            for (int s = 0; s < seconds; s++) {
                List<byte[][]> events = new ArrayList<>();
                List<byte[][]> labels = new ArrayList<>();
                for (int i = 0; i < perSecond; i++) {
                    long ts = base + s * 1_000L + i * 1_000L / perSecond;
                    for (String e : List.of("good", "bad")) {
                        SyntheticFraud.Row row = data.next();
                        String unit = e + "-user-" + ((s * perSecond + i) % 5_000);
                        String id = e + "-" + s + "-" + i;
                        events.add(
                                new byte[][] {
                                    unit.getBytes(StandardCharsets.UTF_8),
                                    json.write(
                                            id,
                                            unit,
                                            e,
                                            ts,
                                            SyntheticFraud.FEATURES,
                                            row.features(),
                                            Map.of())
                                });
                        if (e.equals("bad")) {
                            labels.add(
                                    new byte[][] {
                                        id.getBytes(StandardCharsets.UTF_8),
                                        String.format(
                                                        "{\"event_id\":\"%s\",\"label\":%d,\"ts\":%d}",
                                                        id, row.fraud() ? 1 : 0, ts + 300)
                                                .getBytes(StandardCharsets.UTF_8)
                                    });
                        }
                    }
                }
                kafka.clients().produce(name + "-features", events);
                kafka.clients().produce(name + "-labels", labels);
                if (s == 3) {
                    // signed with another key: must be rejected, never applied
                    Command forged =
                            new CommandSigner("not-the-control-key-0123456789ab".getBytes())
                                    .sign(
                                            new Command(
                                                    "forged-1",
                                                    "good",
                                                    Command.Action.ABORT,
                                                    null,
                                                    "mallory",
                                                    System.currentTimeMillis(),
                                                    null));
                    kafka.clients()
                            .produce(
                                    name + "-control",
                                    List.<byte[][]>of(
                                            new byte[][] {
                                                "good".getBytes(StandardCharsets.UTF_8),
                                                ControlCodec.write(forged)
                                            }));
                    // decisions the job did not sign, moving "good" to the bad candidate: with
                    // another key, with another key under the job's key id, and unsigned
                    DecisionSigner mallory = DecisionSigner.generate();
                    List<org.apache.kafka.clients.producer.ProducerRecord<byte[], byte[]>> fakes =
                            new ArrayList<>();
                    for (String how : List.of("foreign", "forged", "unsigned")) {
                        byte[] value = forgedDecision("fake-" + how);
                        var r =
                                new org.apache.kafka.clients.producer.ProducerRecord<>(
                                        name + "-control",
                                        "good".getBytes(StandardCharsets.UTF_8),
                                        value);
                        if (!how.equals("unsigned")) {
                            String keyId =
                                    how.equals("forged") ? signer.key().id() : mallory.key().id();
                            r.headers()
                                    .add(
                                            DecisionVerifier.KEY_ID_HEADER,
                                            keyId.getBytes(StandardCharsets.US_ASCII));
                            r.headers()
                                    .add(
                                            DecisionVerifier.SIGNATURE_HEADER,
                                            java.util.Base64.getEncoder()
                                                    .encode(mallory.sign(value)));
                        }
                        fakes.add(r);
                    }
                    kafka.clients().send(fakes);
                }
                Thread.sleep(400);
            }
            // all predictions out, then the last decisions' checkpoint
            InferenceJobITCase.values(
                    kafka.clients()
                            .readCommitted(
                                    name + "-predictions",
                                    2 * seconds * perSecond,
                                    Duration.ofSeconds(3),
                                    Duration.ofMinutes(2)));
            Thread.sleep(2_000);
            assertThat(FailOnceAfterCheckpoint.FAILED).isTrue(); // the failure did happen
        } finally {
            job.cancel().get();
        }

        List<org.apache.kafka.clients.consumer.ConsumerRecord<byte[], byte[]>> controlRecords =
                kafka.clients()
                        .readCommitted(
                                name + "-control", 1, Duration.ofSeconds(2), Duration.ofMinutes(1));
        // every decision the job wrote verifies with its public key alone
        DecisionVerifier verifier = new DecisionVerifier(List.of(signer.key()));
        int signed = 0;
        for (var r : controlRecords) {
            JsonNode n = ControlCodec.tree(r.value());
            if (n.get("type").asText().equals("decision")
                    && !n.get("decision_id").asText().startsWith("fake-")) {
                assertThat(io.canaryflow.jobs.cli.DecisionKeyOptions.verify(verifier, r).accepted())
                        .as("decision %s verifies", n.get("decision_id"))
                        .isTrue();
                signed++;
            }
        }
        assertThat(signed).isGreaterThan(5);
        List<JsonNode> control =
                InferenceJobITCase.values(controlRecords).stream()
                        .filter(n -> !n.path("decision_id").asText().startsWith("fake-"))
                        .toList();
        Map<String, List<JsonNode>> decisions = new LinkedHashMap<>();
        Set<String> ids = new HashSet<>();
        for (JsonNode n : control) {
            if (n.get("type").asText().equals("decision")) {
                assertThat(ids.add(n.get("decision_id").asText()))
                        .as("decision %s appears once", n.get("decision_id"))
                        .isTrue();
                decisions
                        .computeIfAbsent(n.get("experiment").asText(), k -> new ArrayList<>())
                        .add(n);
            }
        }
        // each experiment's decisions form a chain
        for (List<JsonNode> chain : decisions.values()) {
            for (int i = 1; i < chain.size(); i++) {
                assertThat(chain.get(i).get("previous_decision_id").asText())
                        .isEqualTo(chain.get(i - 1).get("decision_id").asText());
            }
        }
        List<String> goodMoves =
                decisions.get("good").stream()
                        .map(n -> n.get("action").asText())
                        .filter(a -> !a.equals("HOLD"))
                        .toList();
        assertThat(goodMoves).containsExactly("ADVANCE", "PROMOTE");
        JsonNode rollback =
                decisions.get("bad").stream()
                        .filter(n -> !n.get("action").asText().equals("HOLD"))
                        .findFirst()
                        .orElseThrow();
        assertThat(rollback.get("action").asText()).isEqualTo("ROLLBACK");
        assertThat(rollback.get("guardrails").get(0).get("metric").asText())
                .isEqualTo("label_error_rate");
        assertThat(rollback.get("guardrails").get(0).get("result").asText()).isEqualTo("FAIL");
        // the labels' variance is over units: the label join sketched each joined label's unit
        assertThat(rollback.get("guardrails").get(0).get("test").asText())
                .contains("variance over units");
        assertThat(rollback.get("plan").get("canary_percent").asDouble()).isZero();
        // the decision names the assignment it leads to and the window's drift
        assertThat(rollback.get("assignment").get("salt").asText())
                .isEqualTo(rollback.get("plan").get("salt").asText())
                .isNotEqualTo("bad");
        assertThat(rollback.get("assignment").get("candidate_buckets").get(1).asInt()).isZero();
        assertThat(rollback.get("drift").get("score_level").asText()).isEqualTo("ALERT");
        JsonNode advance =
                decisions.get("good").stream()
                        .filter(n -> n.get("action").asText().equals("ADVANCE"))
                        .findFirst()
                        .orElseThrow();
        assertThat(advance.get("assignment").get("candidate_buckets").get(1).asInt())
                .isEqualTo(5_000);
        assertThat(advance.get("assignment").get("control_buckets").get(0).asInt())
                .isEqualTo(5_000);

        // Routing followed the decisions: every plan id decided was routed under, and under
        // each the candidate's share is the plan's.
        Map<String, Double> percent = new HashMap<>();
        Map<String, String> baselineOf = new HashMap<>();
        for (List<JsonNode> chain : decisions.values()) {
            for (JsonNode d : chain) {
                percent.put(
                        d.get("plan_id").asText(), d.get("plan").get("canary_percent").asDouble());
                baselineOf.put(d.get("plan_id").asText(), d.get("plan").get("baseline").asText());
            }
        }
        Map<String, long[]> byPlan = new HashMap<>(); // plan id -> {n, candidate, baseline version}
        for (JsonNode p :
                InferenceJobITCase.values(
                        kafka.clients()
                                .readCommitted(
                                        name + "-predictions",
                                        2 * seconds * perSecond,
                                        Duration.ofSeconds(2),
                                        Duration.ofMinutes(1)))) {
            long[] t = byPlan.computeIfAbsent(p.get("plan_id").asText(), k -> new long[3]);
            t[0]++;
            if (p.get("arm").asText().equals("candidate")) {
                t[1]++;
            }
            if (!p.get("version")
                            .asText()
                            .equals(
                                    baselineOf.getOrDefault(
                                            p.get("plan_id").asText(), p.get("version").asText()))
                    && !p.get("arm").asText().equals("candidate")) {
                t[2]++; // a non-candidate event not served by its plan's baseline
            }
        }
        String promoted =
                decisions.get("good").get(decisions.get("good").size() - 1).get("plan_id").asText();
        String rolledBack = rollback.get("plan_id").asText();
        assertThat(byPlan).containsKeys(promoted, rolledBack).doesNotContainKey("fake-plan");
        for (Map.Entry<String, long[]> e : byPlan.entrySet()) {
            long n = e.getValue()[0];
            Double p = percent.get(e.getKey());
            if (p == null || n < 500) {
                continue; // a configured plan, or too few events to measure
            }
            assertThat(e.getValue()[2])
                    .as("events off their plan's baseline under %s", e.getKey())
                    .isZero();
            double share = (double) e.getValue()[1] / n;
            double sd = Math.sqrt(p / 100 * (1 - p / 100) / n);
            assertThat(share)
                    .as("candidate share under %s (%s %%)", e.getKey(), p)
                    .isBetween(p / 100 - 5 * sd - 1e-9, p / 100 + 5 * sd + 1e-9);
        }
        assertThat(baselineOf.get(promoted)).isEqualTo(DemoModels.GOOD_CANDIDATE);
        JsonNode promotion = decisions.get("good").get(decisions.get("good").size() - 1);
        assertThat(promotion.get("arms").get("candidate").get("version").asText())
                .isEqualTo(DemoModels.GOOD_CANDIDATE);
        assertThat(promotion.get("arms").get("control").get("version").asText())
                .isEqualTo(DemoModels.BASELINE);
        assertThat(promotion.get("guardrails").get(0).get("result").asText()).isEqualTo("PASS");
        assertThat(promotion.get("guardrails").get(0).get("test").asText())
                .contains("variance over units");
        // after the promotion every event is served by the promoted version
        long afterPromotion = byPlan.getOrDefault(promoted, new long[3])[0];
        assertThat(afterPromotion).isGreaterThan(1_000);

        List<JsonNode> dead =
                InferenceJobITCase.values(
                        kafka.clients()
                                .readCommitted(
                                        name + "-dead-letters",
                                        1,
                                        Duration.ofSeconds(2),
                                        Duration.ofMinutes(1)));
        assertThat(dead)
                .extracting(d -> d.get("reason").asText() + " " + d.get("event_id").asText())
                .containsExactlyInAnyOrder(
                        "BAD_SIGNATURE forged-1",
                        "UNTRUSTED_KEY fake-foreign",
                        "BAD_SIGNATURE fake-forged",
                        "UNSIGNED fake-unsigned");
    }

    /** A PROMOTE of the bad candidate for "good", decided now, as the job would write it. */
    static byte[] forgedDecision(String id) {
        return io.canaryflow.testing.Decisions.decision(
                id,
                io.canaryflow.operators.judge.Verdict.Action.PROMOTE,
                false,
                plan("fake-before", DemoModels.BASELINE, 10),
                plan("fake-plan", DemoModels.BAD_CANDIDATE, 0),
                System.currentTimeMillis());
    }

    static io.canaryflow.operators.routing.RolloutPlan plan(
            String id, String baseline, double percent) {
        return new io.canaryflow.operators.routing.RolloutPlan(
                id,
                "good",
                DemoModels.MODEL,
                io.canaryflow.operators.routing.RolloutPlan.Mode.CANARY,
                "good",
                baseline,
                DemoModels.BAD_CANDIDATE,
                percent,
                List.of());
    }
}
