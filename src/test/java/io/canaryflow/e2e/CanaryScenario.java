package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.routing.Buckets;
import io.canaryflow.operators.routing.RolloutPlan;
import io.canaryflow.operators.routing.Router;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaClients;
import io.canaryflow.testing.TestModels;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** The canary scoring scenario, run against whichever Kafka a test brings. */
final class CanaryScenario {
    private CanaryScenario() {}

    /**
     * Canary at 20 % over 400 units: every event gets exactly one prediction (read_committed), on
     * the arm the router gives its unit, the split matches the plan within 4 binomial standard
     * deviations, and every score equals a direct ONNX Runtime call on the same row.
     */
    static void run(
            MiniCluster cluster,
            KafkaClients kafka,
            ModelRepository repository,
            Path work,
            String name)
            throws Exception {
        long started = System.currentTimeMillis();
        Map<String, String> c = InferenceJobITCase.config(kafka, work, name);
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.salt", "it-salt");
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "20");
        JobConfig config = JobConfig.fromFlat(c);
        int units = 400;
        List<InferenceJobITCase.Sent> sent =
                InferenceJobITCase.sendEvents(kafka, name + "-features", "fraud", 2_000, units, 1);

        assertThat(JobRun.runToCompletion(cluster, config, InferenceJobITCase.JOB_TIMEOUT))
                .isZero();

        List<ConsumerRecord<byte[], byte[]>> records =
                kafka.readCommitted(
                        name + "-predictions",
                        sent.size(),
                        Duration.ofSeconds(2),
                        Duration.ofMinutes(1));
        // Kafka timestamps are scoring time, not the (2023) event time, which time-based retention
        // would delete at once.
        assertThat(records)
                .allSatisfy(r -> assertThat(r.timestamp()).isGreaterThanOrEqualTo(started));
        List<JsonNode> predictions = InferenceJobITCase.values(records);
        assertThat(predictions).hasSize(sent.size());
        assertThat(predictions)
                .allSatisfy(p -> assertThat(p.get("ts").asLong()).isLessThan(started));
        Set<String> ids = new HashSet<>();
        predictions.forEach(p -> ids.add(p.get("event_id").asText()));
        assertThat(ids)
                .hasSize(sent.size())
                .containsAll(sent.stream().map(InferenceJobITCase.Sent::eventId).toList());

        // Every prediction is on the arm the router gives its unit under the plan's salt.
        RolloutPlan plan = config.plans().get(0);
        Buckets buckets = new Buckets();
        Map<String, String> armOfUnit = new HashMap<>();
        for (JsonNode p : predictions) {
            String unit = p.get("unit").asText();
            Router.Assignment expected =
                    Router.assign(plan, buckets.bucket("it-salt", unit)).get(0);
            assertThat(p.get("arm").asText()).isEqualTo(expected.arm().wireName());
            assertThat(p.get("version").asText()).isEqualTo(expected.version());
            assertThat(p.get("plan_id").asText()).isEqualTo(plan.planId());
            assertThat(p.get("served").asBoolean()).isTrue();
            String previous = armOfUnit.put(unit, p.get("arm").asText());
            assertThat(previous == null || previous.equals(p.get("arm").asText())).isTrue();
        }
        // The split over units matches the plan within a binomial tolerance (4 standard
        // deviations).
        long candidateUnits = armOfUnit.values().stream().filter("candidate"::equals).count();
        long controlUnits = armOfUnit.values().stream().filter("control"::equals).count();
        double sd = Math.sqrt(units * 0.2 * 0.8);
        assertThat((double) candidateUnits).isBetween(units * 0.2 - 4 * sd, units * 0.2 + 4 * sd);
        assertThat((double) controlUnits).isBetween(units * 0.2 - 4 * sd, units * 0.2 + 4 * sd);
        assertThat(armOfUnit).hasSize(units);

        // Scores equal a direct ONNX Runtime call on the same rows.
        Map<String, InferenceJobITCase.Sent> byId = new HashMap<>();
        sent.forEach(s -> byId.put(s.eventId(), s));
        for (String version : List.of(DemoModels.BASELINE, DemoModels.GOOD_CANDIDATE)) {
            List<JsonNode> ofVersion =
                    predictions.stream()
                            .filter(p -> p.get("version").asText().equals(version))
                            .toList();
            assertThat(ofVersion).isNotEmpty();
            float[] direct =
                    TestModels.directScores(
                            repository,
                            version,
                            ofVersion.stream()
                                    .map(p -> byId.get(p.get("event_id").asText()).features())
                                    .toList());
            for (int i = 0; i < direct.length; i++) {
                assertThat(ofVersion.get(i).get("score").floatValue())
                        .isCloseTo(direct[i], org.assertj.core.data.Offset.offset(1e-6f));
            }
        }
        assertThat(
                        kafka.readCommitted(
                                name + "-dead-letters",
                                0,
                                Duration.ofSeconds(1),
                                Duration.ofSeconds(5)))
                .isEmpty();
    }
}
