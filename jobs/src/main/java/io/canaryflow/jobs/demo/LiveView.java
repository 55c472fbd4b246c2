package io.canaryflow.jobs.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Follows the predictions and dead-letters topics as a downstream consumer would ({@code
 * read_committed}) and prints, every few seconds, what a person wants to see: events/s in and out,
 * per experiment and arm the count, mean score and scoring latency, and dead letters by reason.
 */
final class LiveView implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final java.time.format.DateTimeFormatter TIME =
            java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss")
                    .withZone(java.time.ZoneId.systemDefault());

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final String predictionsTopic;
    private final String monitoringTopic;
    private final String controlTopic;
    private final LongSupplier produced;
    private final PrintStream out;
    private final Duration every;
    private volatile boolean running = true;

    private final Map<String, ArmStats> arms = new TreeMap<>();
    private final Map<String, Long> deadLetters = new TreeMap<>();
    private long predictions;

    /**
     * Counts of one experiment/arm/version since the start, and the latest interval's latencies.
     */
    private static final class ArmStats {
        long n;
        double scoreSum;
        long[] latencies = new long[1024];
        int latencyCount;

        void add(double score, long latencyUs) {
            n++;
            scoreSum += score;
            if (latencyCount == latencies.length) {
                latencies = Arrays.copyOf(latencies, latencyCount * 2);
            }
            latencies[latencyCount++] = latencyUs;
        }

        long percentile(double q) {
            if (latencyCount == 0) {
                return -1;
            }
            long[] sorted = Arrays.copyOf(latencies, latencyCount);
            Arrays.sort(sorted);
            return sorted[(int) Math.min(latencyCount - 1, Math.ceil(q * latencyCount) - 1)];
        }
    }

    LiveView(
            String bootstrapServers,
            String predictionsTopic,
            String deadLettersTopic,
            String monitoringTopic,
            String controlTopic,
            LongSupplier produced,
            PrintStream out,
            Duration every) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "canaryflow-demo-view-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        this.consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<String> topics =
                new java.util.ArrayList<>(
                        List.of(predictionsTopic, deadLettersTopic, monitoringTopic));
        if (controlTopic != null) {
            topics.add(controlTopic);
        }
        this.consumer.subscribe(topics);
        this.monitoringTopic = monitoringTopic;
        this.controlTopic = controlTopic;
        this.predictionsTopic = predictionsTopic;
        this.produced = produced;
        this.out = out;
        this.every = every;
    }

    @Override
    public void run() {
        long started = System.nanoTime();
        long lastPrint = started;
        long lastProduced = 0;
        long lastPredictions = 0;
        try {
            while (running) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    accept(r);
                }
                long now = System.nanoTime();
                if (now - lastPrint >= every.toNanos()) {
                    double seconds = (now - lastPrint) / 1e9;
                    long producedNow = produced.getAsLong();
                    print(
                            (now - started) / 1_000_000_000L,
                            producedNow,
                            (producedNow - lastProduced) / seconds,
                            (predictions - lastPredictions) / seconds);
                    lastProduced = producedNow;
                    lastPredictions = predictions;
                    lastPrint = now;
                    arms.values().forEach(a -> a.latencyCount = 0);
                }
            }
        } finally {
            consumer.close();
        }
    }

    private void accept(ConsumerRecord<byte[], byte[]> r) {
        JsonNode n;
        try {
            n = JSON.readTree(r.value());
        } catch (IOException e) {
            return;
        }
        if (r.topic().equals(monitoringTopic)) {
            printReport(n);
        } else if (r.topic().equals(controlTopic)) {
            // every decision with its reasons, as the control tool's tail prints it
            String text = io.canaryflow.jobs.cli.ControlTool.describe(n);
            out.println(
                    (n.path("action").asText().equals("HOLD") ? "  judge   | " : "  JUDGE   | ")
                            + text.replace("\n", "\n  judge   | "));
        } else if (r.topic().equals(predictionsTopic)) {
            predictions++;
            String key =
                    String.format(
                            "%-14s %-10s %-8s",
                            n.path("experiment").asText(),
                            n.path("arm").asText(),
                            n.path("version").asText());
            arms.computeIfAbsent(key, k -> new ArmStats())
                    .add(n.path("score").asDouble(), n.path("latency_us").asLong());
        } else {
            deadLetters.merge(n.path("reason").asText(), 1L, Long::sum);
        }
    }

    private void print(
            long elapsed, long producedTotal, double producedRate, double predictionRate) {
        List<String> lines = new ArrayList<>();
        lines.add(
                String.format(
                        "[%4ds] produced %,d (%,.0f/s) | predictions %,d (%,.0f/s, committed at each checkpoint) | dead letters %,d %s",
                        elapsed,
                        producedTotal,
                        producedRate,
                        predictions,
                        predictionRate,
                        deadLetters.values().stream().mapToLong(Long::longValue).sum(),
                        deadLetters));
        lines.add(
                String.format(
                        "       %-14s %-10s %-8s %10s %10s %14s %14s",
                        "experiment",
                        "arm",
                        "version",
                        "n",
                        "mean score",
                        "latency p50 us",
                        "latency p99 us"));
        arms.forEach(
                (key, a) ->
                        lines.add(
                                String.format(
                                        "       %s %10d %10.4f %14s %14s",
                                        key,
                                        a.n,
                                        a.scoreSum / a.n,
                                        a.latencyCount == 0
                                                ? "-"
                                                : String.valueOf(a.percentile(0.5)),
                                        a.latencyCount == 0
                                                ? "-"
                                                : String.valueOf(a.percentile(0.99)))));
        out.println(String.join(System.lineSeparator(), lines));
        out.flush();
    }

    /** One line per label report, which follows its window's report when its labels are known. */
    private void printLabelReport(JsonNode n) {
        JsonNode labels = n.path("labels");
        out.println(
                String.format(
                        "  labels  | window %s +%ds  %-13s %-7s %-9s joined %d, wrong %s | pending %d | expired %d | late %d",
                        TIME.format(
                                java.time.Instant.ofEpochMilli(n.path("window_start").asLong())),
                        (n.path("window_end").asLong() - n.path("window_start").asLong()) / 1000,
                        n.path("experiment").asText(),
                        n.path("version").asText(),
                        n.path("arm").asText(),
                        labels.path("joined").asLong(),
                        labels.path("error_rate").isNumber()
                                ? String.format(
                                        "%.1f%%", 100 * labels.path("error_rate").asDouble())
                                : "-",
                        labels.path("pending").asLong(),
                        labels.path("expired").asLong(),
                        labels.path("late").asLong()));
    }

    /** One line per window report: the most drifted feature, the score's drift, latency. */
    private void printReport(JsonNode n) {
        if ("labels".equals(n.path("report").asText())) {
            printLabelReport(n);
            return;
        }
        String worst = "-";
        double worstPsi = -1;
        String worstLevel = "";
        for (java.util.Iterator<Map.Entry<String, JsonNode>> it = n.path("features").fields();
                it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            double psi = f.getValue().path("psi").asDouble(-1);
            if (psi > worstPsi) {
                worstPsi = psi;
                worst = f.getKey();
                worstLevel = f.getValue().path("level").asText();
            }
        }
        JsonNode score = n.path("score");
        JsonNode errors = n.path("errors");
        String versus =
                n.has("score_versus_arm")
                        ? String.format(
                                " | vs %s PSI %.3f %s",
                                n.path("score_versus_arm").path("arm").asText(),
                                n.path("score_versus_arm")
                                        .path("drift")
                                        .path("psi")
                                        .asDouble(Double.NaN),
                                n.path("score_versus_arm").path("drift").path("level").asText())
                        : "";
        JsonNode paired = n.path("paired");
        String pairedLine =
                paired.isMissingNode()
                        ? ""
                        : String.format(
                                " | vs served: %d pairs, %.1f%% decisions flipped (McNemar p %s), mean score %+.3f (Wilcoxon p %s)",
                                paired.path("pairs").asLong(),
                                100 * paired.path("flip_rate").asDouble(),
                                shortP(paired.path("mcnemar_p")),
                                paired.path("mean_delta").asDouble(),
                                shortP(paired.path("wilcoxon_p")));
        long segmentAlarms = 0;
        for (JsonNode segment : n.path("segments")) {
            if (segment.path("discovery").asBoolean()) {
                segmentAlarms++;
            }
        }
        out.println(
                String.format(
                                "  monitor | window %s +%ds  %-13s %-7s %-9s n=%-6d max feature PSI %-14s %7.3f %-12s score PSI %7.3f %-12s p99 %s us",
                                TIME.format(
                                        java.time.Instant.ofEpochMilli(
                                                n.path("window_start").asLong())),
                                (n.path("window_end").asLong() - n.path("window_start").asLong())
                                        / 1000,
                                n.path("experiment").asText(),
                                n.path("version").asText(),
                                n.path("arm").asText(),
                                n.path("n").asLong(),
                                worst,
                                worstPsi,
                                worstLevel,
                                score.path("psi").asDouble(Double.NaN),
                                score.path("level").asText(),
                                n.path("latency_us").path("p99").asText())
                        + String.format(
                                " | errors %s",
                                errors.path("rate").isNumber()
                                        ? String.format(
                                                "%.1f%%", 100 * errors.path("rate").asDouble())
                                        : "-")
                        + versus
                        + pairedLine
                        + (segmentAlarms > 0
                                ? " | segment drift: " + segmentAlarms + " discoveries"
                                : ""));
    }

    private static String shortP(JsonNode p) {
        return p.isNumber() ? String.format("%.2g", p.asDouble()) : "-";
    }

    void stop() {
        running = false;
    }
}
