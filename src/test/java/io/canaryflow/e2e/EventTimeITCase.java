package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.jobs.InferenceJob;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.kafka.KafkaEndpoints;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.records.FeatureEventJson;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaClients;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Event time on Kafka as it is: several partitions per task read from a backlog, and pauses longer
 * than the idle timeout, including a job started before its data.
 */
class EventTimeITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    static final long BASE = 1_700_000_000_000L;

    /** The partitions the pause test sends to: its third partition stays empty. */
    static final List<Integer> LIVE = List.of(0, 1);

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

    static Map<String, String> config(String name, int featurePartitions) throws Exception {
        KafkaClients clients = kafka.clients();
        Map<String, String> c = InferenceJobITCase.config(clients, work, name + "-x");
        // the helper's own topics are unused: this test's features topic has its own partitions
        clients.createTopic(name + "-features", featurePartitions);
        for (String topic : List.of("predictions", "dead-letters", "monitoring")) {
            clients.createTopic(name + "-" + topic, 1);
        }
        c.put("kafka.group-id", name);
        c.put("kafka.transactional-id-prefix", name);
        for (String topic : List.of("features", "predictions", "dead-letters", "monitoring")) {
            c.put("kafka.topics." + topic, name + "-" + topic);
        }
        c.put("monitoring.window", "1 s");
        c.put("monitoring.min-count", "1");
        c.put("events.max-out-of-orderness", "1 s");
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "30");
        return c;
    }

    /**
     * Events {@code from..from+count-1}, one every {@code stepMillis} of event time from {@code
     * firstTs}, keyed by unit (so a unit's events share a partition, in order).
     */
    static void send(String topic, int from, int count, long firstTs, long stepMillis) {
        send(topic, null, from, count, firstTs, stepMillis);
    }

    /** As above, to the given partitions only (null: all). */
    static void send(
            String topic,
            List<Integer> partitions,
            int from,
            int count,
            long firstTs,
            long stepMillis) {
        SyntheticFraud data = new SyntheticFraud(from);
        FeatureEventJson json = new FeatureEventJson();
        List<byte[][]> records = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String unit = "user-" + ((from + i) * 7_919 % 3_000);
            records.add(
                    new byte[][] {
                        unit.getBytes(StandardCharsets.UTF_8),
                        json.write(
                                "e-" + (from + i),
                                unit,
                                "fraud",
                                firstTs + i * stepMillis,
                                SyntheticFraud.FEATURES,
                                data.next().features(),
                                Map.of())
                    });
        }
        kafka.produce(topic, partitions, records);
    }

    /** Predictions per (window start, version, arm), from the predictions topic. */
    static Map<String, Long> predictionsPerWindow(List<JsonNode> predictions) {
        Map<String, Long> counts = new TreeMap<>();
        for (JsonNode p : predictions) {
            long start = Math.floorDiv(p.get("ts").asLong(), 1_000L) * 1_000L;
            counts.merge(
                    (start - BASE) + " " + p.get("version").asText() + " " + p.get("arm").asText(),
                    1L,
                    Long::sum);
        }
        return counts;
    }

    /** Reported counts per (window start, version, arm); each series reported at most once. */
    static Map<String, Long> reportedPerWindow(List<JsonNode> reports) {
        Map<String, Long> counts = new TreeMap<>();
        for (JsonNode r : reports) {
            String key =
                    (r.get("window_start").asLong() - BASE)
                            + " "
                            + r.get("version").asText()
                            + " "
                            + r.get("arm").asText();
            assertThat(counts.put(key, r.get("n").asLong())).as("reported once: %s", key).isNull();
        }
        return counts;
    }

    @ParameterizedTest(name = "parallelism {0}")
    @ValueSource(ints = {1, 2})
    void shouldCountEveryPredictionInExactlyOneWindowWhenATaskReadsABacklogOfSeveralPartitions(
            int parallelism, @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "backlog-p" + parallelism;
        Map<String, String> c = config(name, 4);
        c.put("job.parallelism", String.valueOf(parallelism));
        JobConfig config = JobConfig.fromFlat(c);
        int events = 16_000;
        // 32 s of event time, in order within every partition, all of it waiting before the start
        send(name + "-features", 0, events, BASE, 2);

        assertThat(JobRun.runToCompletion(cluster, config, InferenceJobITCase.JOB_TIMEOUT))
                .isZero();
        // a bounded job's checkpoints may only fail as its sources finish (see the runbook)
        assertThat(JobRun.lastFailedCheckpoints())
                .as("failed checkpoints")
                .allMatch(JobRun::causedByStartingOrFinishingTasks);

        List<JsonNode> predictions =
                InferenceJobITCase.values(
                        kafka.readCommitted(
                                name + "-predictions",
                                events,
                                Duration.ofSeconds(2),
                                Duration.ofMinutes(1)));
        assertThat(predictions).hasSize(events);
        List<JsonNode> reports =
                InferenceJobITCase.values(
                        kafka.readCommitted(
                                name + "-monitoring",
                                1,
                                Duration.ofSeconds(3),
                                Duration.ofMinutes(1)));
        assertThat(reports.stream().mapToLong(r -> r.get("late").asLong()).sum())
                .as("no in-order event is late")
                .isZero();
        Map<String, Long> expected = predictionsPerWindow(predictions);
        assertThat(expected).hasSizeGreaterThanOrEqualTo(32 * 3);
        assertThat(reportedPerWindow(reports)).isEqualTo(expected);
    }

    @Test
    void shouldReportAndJudgeWhenStartedOnEmptyTopicsAndAgainAfterAPauseLongerThanTheIdleTimeout(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "pause";
        // three partitions, of which the third never gets an event: it must not hold time back
        Map<String, String> c = config(name, 3);
        kafka.clients().createTopic(name + "-control", 1);
        c.put("job.parallelism", "2");
        c.put("kafka.bounded", "false");
        c.put("kafka.topics.control", name + "-control");
        c.put("checkpoint.interval", "300 ms");
        // short enough to pause past, long enough for both tasks of a loaded machine to read
        // their first records after a pause within it (a resuming partition holds time that long)
        c.put("events.idle-timeout", "3 s");
        c.put("control.enabled", "true");
        c.put("control.key", ControlLoopITCase.KEY);
        c.put("experiments.fraud.schedule", "30,100");
        c.put("experiments.fraud.min-step-duration", "1 h");
        c.put("experiments.fraud.guardrails", "inference_error_rate:0.01:critical");
        JobConfig config = JobConfig.fromFlat(c);

        JobClient job = JobRun.start(config, e -> e);
        List<JsonNode> reports;
        List<JsonNode> control;
        try {
            // started on empty topics: everything is idle before the first event
            Thread.sleep(5_000);
            send(name + "-features", LIVE, 0, 2_000, BASE, 2); // 4 s of event time
            reports =
                    await(
                            name + "-monitoring",
                            r -> r.get("window_start").asLong() == BASE + 1_000);
            // a pause longer than the idle timeout, then the stream goes on a minute later
            Thread.sleep(8_000);
            long later = BASE + 60_000;
            send(name + "-features", LIVE, 2_000, 2_000, later, 2);
            // Once its predictions are committed, every partial of the batch has reached the
            // merge: each leaves before the checkpoint barrier that commits its predictions.
            assertThat(
                            kafka.readCommitted(
                                    name + "-predictions",
                                    4_000,
                                    Duration.ZERO,
                                    Duration.ofMinutes(2)))
                    .as("predictions before the last events")
                    .hasSize(4_000);
            // one event a minute on, in each live partition, closes every window before it
            for (int p : LIVE) {
                send(name + "-features", List.of(p), 4_000 + p, 1, later + 60_000, 1);
            }
            reports =
                    await(
                            name + "-monitoring",
                            r -> r.get("window_start").asLong() == later + 3_000);
            control =
                    awaitDecision(
                            name + "-control",
                            d -> d.get("window").get("start").asLong() == later + 3_000);
            assertThat(JobRun.failedCheckpoints(cluster, job.getJobID()))
                    .as("failed checkpoints")
                    .isEmpty();
        } finally {
            job.cancel().get();
        }
        List<JsonNode> predictions =
                InferenceJobITCase.values(
                        kafka.readCommitted(
                                name + "-predictions",
                                4_000 + LIVE.size(),
                                Duration.ofSeconds(1),
                                Duration.ofMinutes(1)));
        assertThat(predictions).hasSize(4_000 + LIVE.size());
        Map<String, Long> expected = predictionsPerWindow(predictions);
        Map<String, Long> reported = reportedPerWindow(reports); // each window reported once
        // Every prediction but the last ones (their windows are open) is counted once, in its own
        // window: none is late, neither at the start nor after the pause (a resuming partition
        // holds time until the other task has read its first records too).
        // the last windows may be committed a checkpoint after the one awaited
        long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
        while (total(reports) < 4_000 && System.nanoTime() < deadline) {
            reports = await(name + "-monitoring", r -> true);
        }
        long late = reports.stream().mapToLong(r -> r.get("late").asLong()).sum();
        assertThat(late).as("late events").isZero();
        reported = reportedPerWindow(reports);
        reported.values().removeIf(n -> n == 0);
        expected.keySet().removeIf(k -> Long.parseLong(k.split(" ")[0]) >= 120_000);
        assertThat(reported).isEqualTo(expected);
        // Each window's active units, against the distinct units of its predictions: equal where
        // the window lost no event as late (a unit's events share a partition, so a task).
        Map<String, java.util.Set<String>> units = new TreeMap<>();
        for (JsonNode p : predictions) {
            long start = Math.floorDiv(p.get("ts").asLong(), 1_000L) * 1_000L;
            units.computeIfAbsent(
                            (start - BASE)
                                    + " "
                                    + p.get("version").asText()
                                    + " "
                                    + p.get("arm").asText(),
                            k -> new java.util.HashSet<>())
                    .add(p.get("unit").asText());
        }
        int compared = 0;
        for (JsonNode r : reports) {
            String key =
                    (r.get("window_start").asLong() - BASE)
                            + " "
                            + r.get("version").asText()
                            + " "
                            + r.get("arm").asText();
            long distinct = units.getOrDefault(key, java.util.Set.of()).size();
            assertThat(r.get("units").asLong())
                    .as("units of %s", key)
                    .isLessThanOrEqualTo(distinct);
            if (r.get("n").asLong() == expected.getOrDefault(key, -1L)) {
                assertThat(r.get("units").asLong()).as("units of %s", key).isEqualTo(distinct);
                compared++;
            }
        }
        assertThat(compared).as("windows compared").isGreaterThan(4);
        // monitoring resumed with the data, before and after the pause
        for (long w : new long[] {0, 1_000, 2_000, 3_000, 60_000, 61_000, 62_000, 63_000}) {
            assertThat(reports)
                    .as("window %d reported", w)
                    .anyMatch(
                            r ->
                                    r.get("window_start").asLong() == BASE + w
                                            && r.get("n").asLong() > 0);
        }
        List<Long> judged =
                control.stream()
                        .filter(n -> n.get("type").asText().equals("decision"))
                        .map(n -> n.get("window").get("start").asLong() - BASE)
                        .toList();
        assertThat(judged)
                .contains(0L, 1_000L, 2_000L, 3_000L, 60_000L, 61_000L, 62_000L, 63_000L)
                .doesNotHaveDuplicates();
        // the judge's evidence is over units, the randomization unit
        JsonNode decision =
                control.stream()
                        .filter(n -> n.get("type").asText().equals("decision"))
                        .filter(n -> n.get("window").get("start").asLong() == BASE + 61_000)
                        .findFirst()
                        .orElseThrow();
        JsonNode health = decision.get("health");
        assertThat(health.get("observed_control_units").asLong()).isPositive();
        assertThat(health.get("observed_candidate_units").asLong()).isPositive();
        assertThat(health.get("design_effect").asDouble()).isGreaterThanOrEqualTo(1.0);
        assertThat(decision.get("guardrails").get(0).get("test").asText())
                .contains("variance over units");
    }

    @Test
    void shouldFeedEachJudgeTaskFromItsOwnMergeTaskOnly() throws Exception {
        Map<String, String> c = config("graph", 2);
        c.put("kafka.topics.control", "graph-control");
        c.put("control.enabled", "true");
        c.put("control.key", ControlLoopITCase.KEY);
        JobConfig config = JobConfig.fromFlat(c);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        InferenceJob.build(env, config, new KafkaEndpoints(config));
        StreamGraph graph = env.getStreamGraph();
        StreamNode judge =
                graph.getStreamNodes().stream()
                        .filter(n -> "judge".equals(n.getTransformationUID()))
                        .findFirst()
                        .orElseThrow();
        // Another merge task, idle or ahead, must not move a judge task's time past a window
        // whose reports its own merge task is still sending: the reports' edge is pointwise.
        List<String> fromMerge =
                judge.getInEdges().stream()
                        .filter(
                                e ->
                                        "monitor-merge"
                                                .equals(
                                                        graph.getStreamNode(e.getSourceId())
                                                                .getTransformationUID()))
                        .map(e -> e.getPartitioner().getClass().getSimpleName())
                        .toList();
        assertThat(fromMerge).containsExactly("ForwardPartitioner");
    }

    /** Predictions counted in reports, in their window or as late. */
    static long total(List<JsonNode> reports) {
        return reports.stream().mapToLong(r -> r.get("n").asLong() + r.get("late").asLong()).sum();
    }

    /** A job with labels on its own labels topic (two partitions), unbounded. */
    static Map<String, String> labelled(String name, String idleTimeout) throws Exception {
        Map<String, String> c = config(name, 2);
        kafka.clients().createTopic(name + "-labels", 2);
        c.put("kafka.topics.labels", name + "-labels");
        c.put("kafka.bounded", "false");
        c.put("checkpoint.interval", "300 ms");
        c.put("events.idle-timeout", idleTimeout);
        c.put("labels.enabled", "true");
        c.put("labels.horizon", "3 s");
        return c;
    }

    /**
     * A label {@code <prefix>-<p>} of time {@code ts} in each partition p of the 2 of {@code
     * topic}.
     */
    static void labelInEveryPartition(String topic, String prefix, long ts) {
        for (int p = 0; p < 2; p++) {
            String id = prefix + "-" + p;
            kafka.produce(
                    topic,
                    List.of(p),
                    List.<byte[][]>of(
                            new byte[][] {
                                id.getBytes(StandardCharsets.UTF_8),
                                String.format("{\"event_id\":\"%s\",\"label\":0,\"ts\":%d}", id, ts)
                                        .getBytes(StandardCharsets.UTF_8)
                            }));
        }
    }

    /** Labels {@code (event index, label time)}, keyed by event id. */
    static void sendLabels(String topic, List<long[]> labels) {
        List<byte[][]> records = new ArrayList<>();
        for (long[] l : labels) {
            String id = "e-" + l[0];
            records.add(
                    new byte[][] {
                        id.getBytes(StandardCharsets.UTF_8),
                        String.format(
                                        "{\"event_id\":\"%s\",\"label\":%d,\"ts\":%d}",
                                        id, l[0] % 3 == 0 ? 1 : 0, l[1])
                                .getBytes(StandardCharsets.UTF_8)
                    });
        }
        kafka.produce(topic, null, records);
    }

    /**
     * A job started before any data, its labels topic idle long before the first label: every
     * prediction must wait for the labels' time, and the label reports must equal a recomputation
     * from the records sent. (Before, the predictions' time alone expired them while the labels
     * topic was idle, and their labels came "late": a different share each run.)
     */
    @Test
    void shouldJoinTheLabelsARecomputationJoinsWhenStartedBeforeItsLabels() throws Exception {
        String name = "cold-labels";
        JobConfig config = JobConfig.fromFlat(labelled(name, "1 s"));
        long horizon = 3_000;
        int events = 2_000;
        // labels 0.5 s, 2 s, 4 s (late) and 7 s (after every late window) after their events,
        // some twice: the earlier of the two counts, the other is a duplicate
        List<long[]> labels = new ArrayList<>();
        long[] delays = {500, 2_000, 4_000, 7_000};
        for (int i = 0; i < events; i += 2) {
            long ts = BASE + i * 2L;
            labels.add(new long[] {i, ts + delays[(i / 2) % 4]});
            if (i % 10 == 0) {
                labels.add(new long[] {i, ts + delays[(i / 2) % 4] + 300});
            }
        }
        // a labels topic in the order its labels became known (each partition in order)
        labels.sort(java.util.Comparator.comparingLong(l -> l[1]));
        JobClient job = JobRun.start(config, e -> e);
        List<JsonNode> reports;
        try {
            Thread.sleep(3_000); // started on empty topics: both idle before the first record
            send(name + "-features", 0, events, BASE, 2); // 4 s of event time
            // more events 20 s on: the predictions' time moves past every horizon of the first
            // ones, and windows are reported, while no label has come yet
            send(name + "-features", events + 2, 200, BASE + 20_000, 20);
            await(
                    name + "-monitoring",
                    r ->
                            r.get("report").asText().equals("window")
                                    && r.get("window_start").asLong() == BASE + 20_000);
            sendLabels(name + "-labels", labels);
            // one event and one label a minute on, in every partition, close every window
            send(name + "-features", List.of(0), events, 1, BASE + 60_000, 1);
            send(name + "-features", List.of(1), events + 1, 1, BASE + 60_000, 1);
            labelInEveryPartition(name + "-labels", "closer", BASE + 60_000);
            reports =
                    await(
                            name + "-monitoring",
                            r ->
                                    r.get("report").asText().equals("labels")
                                            && r.get("window_start").asLong() >= BASE + 12_000);
        } finally {
            job.cancel().get();
        }
        // The recomputation, from the predictions written and the labels sent.
        List<JsonNode> predictions =
                InferenceJobITCase.values(
                        kafka.readCommitted(
                                name + "-predictions",
                                events + 202,
                                Duration.ofSeconds(1),
                                Duration.ofMinutes(1)));
        Map<Long, long[]> first = new HashMap<>(); // event -> earliest label (ts)
        for (long[] l : labels) {
            first.merge(l[0], new long[] {l[1]}, (a, b) -> a[0] <= b[0] ? a : b);
        }
        Map<String, Long> expected = new TreeMap<>(); // "window series outcome" -> count
        for (JsonNode p : predictions) {
            long t = p.get("ts").asLong();
            if (t >= BASE + 20_000) {
                continue; // unlabelled: their outcomes come in windows after 12 s
            }
            String series = p.get("version").asText() + " " + p.get("arm").asText();
            long index = Long.parseLong(p.get("event_id").asText().substring(2));
            long[] l = first.get(index);
            expected.merge(window(t) + " " + series + " opened", 1L, Long::sum);
            if (l != null && l[0] >= t - horizon && l[0] <= t + horizon) {
                expected.merge(window(Math.max(t, l[0])) + " " + series + " joined", 1L, Long::sum);
            } else {
                expected.merge(window(t + horizon) + " " + series + " expired", 1L, Long::sum);
                if (l != null && l[0] <= t + 2 * horizon) {
                    expected.merge(window(l[0]) + " " + series + " late", 1L, Long::sum);
                }
            }
        }
        Map<String, Long> reported = new TreeMap<>();
        for (JsonNode r : reports) {
            if (!r.get("report").asText().equals("labels")
                    || r.get("window_start").asLong() >= BASE + 60_000) {
                continue;
            }
            String key =
                    (r.get("window_start").asLong() - BASE)
                            + " "
                            + r.get("version").asText()
                            + " "
                            + r.get("arm").asText();
            for (String outcome : List.of("opened", "joined", "expired", "late")) {
                long n = r.get("labels").get(outcome).asLong();
                if (n != 0) {
                    assertThat(reported.put(key + " " + outcome, n)).as("once: %s", key).isNull();
                }
            }
        }
        // windows up to 12 s hold every outcome of the events (the last expire at 7 s, the last
        // late labels come at 11 s)
        expected.keySet().removeIf(k -> Long.parseLong(k.split(" ")[0]) >= 12_000);
        reported.keySet().removeIf(k -> Long.parseLong(k.split(" ")[0]) >= 12_000);
        assertThat(expected.entrySet().stream().filter(e -> e.getKey().endsWith("joined")))
                .isNotEmpty();
        assertThat(expected.entrySet().stream().filter(e -> e.getKey().endsWith("late")))
                .isNotEmpty();
        // Every outcome in the window the recomputation puts it in: every labels partition holds
        // the labels' time from the start, so none read first moves it past another's labels.
        assertThat(reported).isEqualTo(expected);
    }

    private static long window(long ts) {
        return Math.floorDiv(ts, 1_000L) * 1_000L - BASE;
    }

    /**
     * A labels topic that had a label and then stays quiet, not yet idle (a long idle timeout): the
     * drift, error and latency reports go on with the predictions' time; only label reports wait.
     * (Before, the merge's time was the label join's, and every report waited for the labels.)
     */
    @Test
    void shouldNotHoldWindowReportsWhileTheLabelsTopicIsQuiet() throws Exception {
        String name = "quiet-labels";
        JobConfig config = JobConfig.fromFlat(labelled(name, "10 min"));
        JobClient job = JobRun.start(config, e -> e);
        try {
            // a label in each partition, then silence: the labels' time stays near BASE
            labelInEveryPartition(name + "-labels", "early", BASE);
            send(name + "-features", List.of(0, 1), 0, 3_000, BASE, 2); // 6 s of event time
            List<JsonNode> reports =
                    await(
                            name + "-monitoring",
                            r ->
                                    r.get("report").asText().equals("window")
                                            && r.get("window_start").asLong() == BASE + 3_000);
            assertThat(reports)
                    .filteredOn(r -> r.get("report").asText().equals("window"))
                    .allSatisfy(r -> assertThat(r.has("labels")).isFalse());
            // label reports wait for the labels' time: none after the labels' last time
            assertThat(reports)
                    .filteredOn(r -> r.get("report").asText().equals("labels"))
                    .allSatisfy(r -> assertThat(r.get("window_start").asLong()).isLessThan(BASE));
        } finally {
            job.cancel().get();
        }
    }

    /** Committed records of {@code topic} once one matching {@code until} has arrived. */
    static List<JsonNode> await(String topic, Predicate<JsonNode> until) throws Exception {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        List<JsonNode> all = List.of();
        while (System.nanoTime() < deadline) {
            all =
                    InferenceJobITCase.values(
                            kafka.readCommitted(
                                    topic,
                                    Integer.MAX_VALUE,
                                    Duration.ZERO,
                                    Duration.ofSeconds(2)));
            if (all.stream().anyMatch(until)) {
                return all;
            }
        }
        throw new AssertionError(
                String.format(
                        "nothing matching arrived in %s: %d records, the last %s",
                        topic, all.size(), all.isEmpty() ? null : all.get(all.size() - 1)));
    }

    static List<JsonNode> awaitDecision(String topic, Predicate<JsonNode> until) throws Exception {
        return await(topic, n -> n.get("type").asText().equals("decision") && until.test(n));
    }
}
