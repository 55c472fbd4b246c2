package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.records.FeatureEventJson;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaClients;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import io.canaryflow.testing.ThrottledEndpoints;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
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
 * Failure as it is: TaskManagers lost many times in one run, and stop-with-savepoint with restores
 * at another parallelism. Every output — predictions, dead letters, window reports with their label
 * outcomes, and the judge's decisions — must equal a failure-free golden run of the same input.
 */
class RecoveryITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(2)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    static final long BASE = 1_700_000_000_000L;
    static final int SECONDS = 24;
    static final int PER_SECOND = 1_000;

    @TempDir static Path work;
    static KafkaTestCluster kafka;
    static Map<String, List<String>> golden;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        TestModels.generate(work.resolve("models"));
        KafkaClients clients = kafka.clients();
        clients.createTopic("features", 4);
        clients.createTopic("labels", 2);
        produceInput();
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    /**
     * 24 s of events at 1,000/s over 2,000 units keyed by unit, one in 250 bad; a label for every
     * other event 0.3-1.5 s later, and for one labelled event in twenty a second, later label with
     * the other value, sent first half of the time.
     */
    static void produceInput() {
        SyntheticFraud data = new SyntheticFraud(11);
        FeatureEventJson json = new FeatureEventJson();
        Random random = new Random(12);
        List<byte[][]> events = new ArrayList<>();
        List<byte[][]> labels = new ArrayList<>();
        for (int i = 0; i < SECONDS * PER_SECOND; i++) {
            long ts = BASE + i * 1_000L / PER_SECOND;
            String unit = "user-" + random.nextInt(2_000);
            String id = "e-" + i;
            SyntheticFraud.Row row = data.next();
            byte[] value =
                    i % 250 == 7
                            ? ("{\"event_id\":\"" + id + "\",\"unit\":7}")
                                    .getBytes(StandardCharsets.UTF_8)
                            : json.write(
                                    id,
                                    unit,
                                    "fraud",
                                    ts,
                                    SyntheticFraud.FEATURES,
                                    row.features(),
                                    Map.of("country", random.nextBoolean() ? "DE" : "FR"));
            events.add(new byte[][] {unit.getBytes(StandardCharsets.UTF_8), value});
            if (i % 2 == 0) {
                long at = ts + 300 + random.nextInt(1_200);
                byte[] first = label(id, row.fraud() ? 1 : 0, at);
                byte[] second = label(id, row.fraud() ? 0 : 1, at + 200);
                byte[] key = id.getBytes(StandardCharsets.UTF_8);
                if (i % 40 == 0) {
                    labels.add(new byte[][] {key, second}); // the later label arrives first
                    labels.add(new byte[][] {key, first});
                } else {
                    labels.add(new byte[][] {key, first});
                    if (i % 40 == 20) {
                        labels.add(new byte[][] {key, second});
                    }
                }
            }
        }
        kafka.produce("features", events);
        kafka.produce("labels", labels);
    }

    static byte[] label(String id, int value, long ts) {
        return String.format("{\"event_id\":\"%s\",\"label\":%d,\"ts\":%d}", id, value, ts)
                .getBytes(StandardCharsets.UTF_8);
    }

    /** A bounded run over the shared input, writing to topics of its own. */
    static JobConfig config(String run, int parallelism) throws Exception {
        KafkaClients clients = kafka.clients();
        for (String topic : List.of("predictions", "dead-letters", "monitoring", "control")) {
            clients.createTopicIfAbsent(run + "-" + topic, 1);
        }
        Map<String, String> c = new LinkedHashMap<>();
        c.put("job.parallelism", String.valueOf(parallelism));
        c.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        c.put("kafka.group-id", run);
        c.put("kafka.bounded", "true");
        c.put("kafka.starting-offsets", "earliest");
        c.put("kafka.transactional-id-prefix", run);
        c.put("kafka.topics.features", "features");
        c.put("kafka.topics.labels", "labels");
        for (String topic : List.of("predictions", "dead-letters", "monitoring", "control")) {
            c.put("kafka.topics." + topic, run + "-" + topic);
        }
        c.put("models.repository", work.resolve("models").toString());
        c.put("checkpoint.interval", "300 ms");
        c.put("checkpoint.directory", work.resolve("checkpoints-" + run).toUri().toString());
        // the default idle timeout (30 s): with a short one, a source task that gets its first
        // records later than that after the start (a loaded machine) finds time moved on without
        // it, and runs would differ by which events are late
        c.put("events.max-out-of-orderness", "1 s");
        c.put("monitoring.window", "1 s");
        c.put("monitoring.min-count", "10");
        c.put("monitoring.segments", "country");
        c.put("labels.enabled", "true");
        c.put("labels.horizon", "3 s");
        c.put("control.enabled", "true");
        c.put("control.key", ControlLoopITCase.KEY);
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.BAD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "20");
        c.put("experiments.fraud.schedule", "20,50,100");
        c.put("experiments.fraud.min-step-duration", "2 s");
        c.put("experiments.fraud.min-samples", "200");
        c.put("experiments.fraud.guardrails", "label_error_rate:0.05:critical");
        // decisions are judged and published, but do not change routing: a run's routing must
        // not depend on when its own decisions come back
        c.put("experiments.fraud.dry-run", "true");
        return JobConfig.fromFlat(c);
    }

    /** Everything a run wrote, as sorted lines without processing times. */
    static Map<String, List<String>> outputs(String run) throws Exception {
        Map<String, List<String>> out = new LinkedHashMap<>();
        List<String> predictions = new ArrayList<>();
        for (JsonNode p : read(run + "-predictions", SECONDS * PER_SECOND * 249 / 250)) {
            predictions.add(
                    String.join(
                            " ",
                            p.get("event_id").asText(),
                            p.get("version").asText(),
                            p.get("arm").asText(),
                            p.get("score").asText()));
        }
        out.put("predictions", sorted(predictions));
        List<String> deadLetters = new ArrayList<>();
        for (JsonNode d : read(run + "-dead-letters", SECONDS * PER_SECOND / 250)) {
            deadLetters.add(
                    String.join(
                            " ",
                            d.get("reason").asText(),
                            d.get("source").get("topic").asText(),
                            d.get("source").get("partition").asText(),
                            d.get("source").get("offset").asText()));
        }
        out.put("dead-letters", sorted(deadLetters));
        List<String> reports = new ArrayList<>();
        for (JsonNode r : read(run + "-monitoring", SECONDS)) {
            JsonNode l = r.get("labels");
            if (r.get("report").asText().equals("labels")) {
                // label outcomes, reported on the label join's time: the same in every run
                reports.add(
                        String.join(
                                " ",
                                String.valueOf(r.get("window_start").asLong() - BASE),
                                r.get("version").asText(),
                                r.get("arm").asText(),
                                "labels",
                                "opened=" + l.get("opened").asText(),
                                "joined=" + l.get("joined").asText(),
                                "misclassified=" + l.get("misclassified").asText(),
                                "expired=" + l.get("expired").asText(),
                                "labels-late=" + l.get("late").asText(),
                                "pending=" + l.get("pending").asText()));
                continue;
            }
            reports.add(
                    String.join(
                            " ",
                            String.valueOf(r.get("window_start").asLong() - BASE),
                            r.get("version").asText(),
                            r.get("arm").asText(),
                            "n=" + r.get("n").asText(),
                            "late=" + r.get("late").asText(),
                            "segments=" + r.get("segments").size(),
                            // what routing sent to the series, counted by the route operator, and
                            // how much of it never came back as a prediction or a failure
                            "routed=" + r.get("errors").get("routed").asText(),
                            "lost=" + r.get("errors").get("lost").asText()));
        }
        out.put("monitoring", sorted(reports));
        List<String> decisions = new ArrayList<>();
        for (JsonNode d : read(run + "-control", 1)) {
            decisions.add(
                    String.join(
                            " ",
                            d.get("decision_id").asText(),
                            d.get("action").asText(),
                            String.valueOf(d.get("window").get("start").asLong() - BASE)));
        }
        out.put("decisions", sorted(decisions));
        return out;
    }

    static List<JsonNode> read(String topic, int expected) throws Exception {
        return InferenceJobITCase.values(
                kafka.readCommitted(topic, expected, Duration.ofSeconds(2), Duration.ofMinutes(1)));
    }

    static List<String> sorted(List<String> lines) {
        List<String> copy = new ArrayList<>(lines);
        java.util.Collections.sort(copy);
        return copy;
    }

    static synchronized Map<String, List<String>> golden(MiniCluster cluster) throws Exception {
        if (golden == null) {
            assertThat(JobRun.runToCompletion(cluster, config("golden", 2), Duration.ofMinutes(3)))
                    .isZero();
            // a bounded job's checkpoints may only fail as its sources finish (see the runbook)
            assertThat(JobRun.lastFailedCheckpoints())
                    .as("failed checkpoints")
                    .allMatch(JobRun::causedByStartingOrFinishingTasks);
            golden = outputs("golden");
            assertThat(golden.get("predictions")).hasSize(SECONDS * PER_SECOND * 249 / 250);
            assertThat(golden.get("dead-letters")).hasSize(SECONDS * PER_SECOND / 250);
            assertThat(golden.get("monitoring")).hasSizeGreaterThan(SECONDS * 3);
            assertThat(golden.get("decisions")).isNotEmpty();
            // routing is counted exactly: every routed event came back, in every report
            assertThat(golden.get("monitoring"))
                    .allMatch(line -> line.contains(" labels ") || line.endsWith(" lost=0"));
            // label reports with real joins, compared like every other line
            assertThat(golden.get("monitoring"))
                    .anyMatch(line -> line.contains(" labels ") && !line.contains(" joined=0 "));
            assertThat(golden.get("monitoring")).anyMatch(line -> !line.contains(" routed=0 "));
        }
        return golden;
    }

    static void assertSameAsGolden(Map<String, List<String>> run, MiniCluster cluster)
            throws Exception {
        Map<String, List<String>> expected = golden(cluster);
        for (String output : expected.keySet()) {
            assertThat(run.get(output)).as(output).doesNotHaveDuplicates();
            assertThat(run.get(output)).as(output).isEqualTo(expected.get(output));
        }
    }

    @Test
    void shouldWriteEveryOutputExactlyOnceThroughTenTaskManagerLosses(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        golden(cluster);
        ThrottledEndpoints.CHECKPOINTS.set(0);
        JobClient job =
                JobRun.start(
                        config("failures", 2),
                        e -> new ThrottledEndpoints(e, 2_500),
                        f -> {
                            f.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 50);
                            return f;
                        });
        int killed = 0;
        int nextTaskManager = 0;
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (killed < 10 && !job.getJobExecutionResult().isDone()) {
            // lose a TaskManager only after the job has made progress since the last loss
            long seen = ThrottledEndpoints.CHECKPOINTS.get();
            while (ThrottledEndpoints.CHECKPOINTS.get() < seen + 2
                    && !job.getJobExecutionResult().isDone()) {
                assertThat(System.nanoTime()).as("progress between failures").isLessThan(deadline);
                Thread.sleep(50);
            }
            if (job.getJobExecutionResult().isDone()) {
                break;
            }
            cluster.startTaskManager(); // the replacement first: the job always has slots
            cluster.terminateTaskManager(nextTaskManager++).get(30, TimeUnit.SECONDS);
            killed++;
        }
        job.getJobExecutionResult().get(5, TimeUnit.MINUTES);
        assertThat(killed).as("TaskManagers lost while the job ran").isEqualTo(10);
        assertSameAsGolden(outputs("failures"), cluster);
    }

    @Test
    void shouldRestoreAStopWithSavepointAtParallelismOneThenTwoWithTheSameOutputs(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        golden(cluster);
        String savepoints = work.resolve("savepoints").toUri().toString();
        String savepoint = null;
        for (int parallelism : new int[] {2, 1}) {
            ThrottledEndpoints.CHECKPOINTS.set(0);
            String from = savepoint;
            JobClient job =
                    JobRun.start(
                            config("rescale", parallelism),
                            e -> new ThrottledEndpoints(e, 1_500),
                            f -> {
                                if (from != null) {
                                    f.set(StateRecoveryOptions.SAVEPOINT_PATH, from);
                                }
                                return f;
                            });
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (ThrottledEndpoints.CHECKPOINTS.get() < 8) {
                assertThat(System.nanoTime()).as("checkpoints").isLessThan(deadline);
                assertThat(job.getJobExecutionResult().isDone()).as("still running").isFalse();
                Thread.sleep(50);
            }
            savepoint =
                    job.stopWithSavepoint(false, savepoints, SavepointFormatType.CANONICAL)
                            .get(2, TimeUnit.MINUTES);
            job.getJobExecutionResult().get(1, TimeUnit.MINUTES);
        }
        String from = savepoint;
        JobClient last =
                JobRun.start(
                        config("rescale", 2),
                        e -> new ThrottledEndpoints(e, 0),
                        f -> {
                            f.set(StateRecoveryOptions.SAVEPOINT_PATH, from);
                            return f;
                        });
        last.getJobExecutionResult().get(5, TimeUnit.MINUTES);
        assertSameAsGolden(outputs("rescale"), cluster);
    }
}
