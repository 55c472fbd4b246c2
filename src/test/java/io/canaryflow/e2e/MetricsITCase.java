package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics as Flink's Prometheus reporter exports them, scraped from a running job: every series
 * the alert rules, their promtool tests and the dashboard name exists under that name, label values
 * are the experiments' own names, and the decision counters exist from the start at 0. The scrape
 * is kept in {@code target/metrics-scrape.txt}.
 */
class MetricsITCase {
    static final String PORTS = "9460-9479";

    static Configuration reporter() {
        Configuration c = new Configuration();
        c.setString(
                "metrics.reporter.prom.factory.class",
                "org.apache.flink.metrics.prometheus.PrometheusReporterFactory");
        c.setString("metrics.reporter.prom.port", PORTS);
        c.setString("metrics.reporter.prom.filterLabelValueCharacters", "false");
        return c;
    }

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .setConfiguration(reporter())
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

    /** Every scrape of the reporter's port range (the JobManager's and the TaskManager's). */
    static String scrape() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        StringBuilder all = new StringBuilder();
        String[] range = PORTS.split("-");
        for (int port = Integer.parseInt(range[0]); port <= Integer.parseInt(range[1]); port++) {
            try {
                HttpResponse<String> r =
                        http.send(
                                HttpRequest.newBuilder(
                                                URI.create("http://localhost:" + port + "/metrics"))
                                        .timeout(Duration.ofSeconds(10))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                all.append(r.body()).append('\n');
            } catch (java.io.IOException e) {
                // nothing on this port
            }
        }
        return all.toString();
    }

    /** The metric names (flink_...) a file mentions. */
    static Set<String> namesIn(Path file) throws Exception {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("\\bflink_[A-Za-z0-9_]+").matcher(Files.readString(file));
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    static Set<String> exported(String scrape) {
        Set<String> names = new TreeSet<>();
        for (String line : scrape.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }

    @Test
    void shouldExportEverySeriesTheAlertsAndDashboardUseUnderItsNameWithRealLabelValues()
            throws Exception {
        String name = "metrics";
        String experiment = "fraud-canary";
        Map<String, String> c = InferenceJobITCase.config(kafka.clients(), work, name);
        kafka.clients().createTopic(name + "-control", 1);
        // a partition per task: a labels source task without one holds the labels' time (and the
        // label reports) for labels.idle-timeout after the start (docs/event-time.md)
        kafka.clients().createTopic(name + "-labels", 2);
        c.put("kafka.topics.labels", name + "-labels");
        c.put("labels.enabled", "true");
        c.put("labels.horizon", "2 s");
        c.put("kafka.bounded", "false");
        c.put("kafka.topics.control", name + "-control");
        c.put("checkpoint.interval", "300 ms");
        c.put("monitoring.window", "1 s");
        c.put("monitoring.min-count", "20");
        c.put("control.enabled", "true");
        c.put("control.key", ControlLoopITCase.KEY);
        c.put("experiments." + experiment + ".model", DemoModels.MODEL);
        c.put("experiments." + experiment + ".baseline", DemoModels.BASELINE);
        c.put("experiments." + experiment + ".candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments." + experiment + ".canary-percent", "10");
        c.put("experiments." + experiment + ".schedule", "10,50,100");
        c.put("experiments." + experiment + ".min-step-duration", "1 s");
        c.put("experiments." + experiment + ".min-samples", "50");
        JobConfig config = JobConfig.fromFlat(c);
        JobClient job = JobRun.start(config, UnaryOperator.identity());
        String scrape;
        try {
            List<InferenceJobITCase.Sent> sent =
                    InferenceJobITCase.sendEvents(
                            kafka.clients(), name + "-features", experiment, 20_000, 2_000, 3);
            List<byte[][]> labels = new ArrayList<>();
            for (int i = 0; i < sent.size(); i++) {
                String id = sent.get(i).eventId();
                labels.add(
                        new byte[][] {
                            id.getBytes(StandardCharsets.UTF_8),
                            String.format(
                                            "{\"event_id\":\"%s\",\"label\":%d,\"ts\":%d}",
                                            id, i % 2, 1_700_000_000_000L + i + 100)
                                    .getBytes(StandardCharsets.UTF_8)
                        });
            }
            kafka.clients().produce(name + "-labels", labels);
            // a decision published (and so counted) before the scrape
            kafka.clients()
                    .readCommitted(
                            name + "-control", 1, Duration.ofSeconds(1), Duration.ofMinutes(2));
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            do {
                scrape = scrape();
                Thread.sleep(500);
            } while ((!scrape.contains("canaryflow_experiment_action_decisions")
                            || !scrape.contains("flink_jobmanager_job_numberOfFailedCheckpoints")
                            || !scrape.contains("KafkaSourceReader")
                            || !scrape.contains("labelErrorRate"))
                    && System.nanoTime() < deadline);
        } finally {
            job.cancel().get();
        }
        Files.writeString(Path.of("target", "metrics-scrape.txt"), scrape);
        Set<String> exported = exported(scrape);

        Path deploy = Path.of("..", "deploy");
        for (Path file :
                new Path[] {
                    deploy.resolve("prometheus/alerts.yaml"),
                    deploy.resolve("prometheus/alerts.test.yaml"),
                    deploy.resolve("grafana/canaryflow-dashboard.json")
                }) {
            assertThat(namesIn(file))
                    .as("series %s names, as the reporter exports them", file.getFileName())
                    .isNotEmpty()
                    .allSatisfy(n -> assertThat(exported).contains(n));
        }
        // label values as configured, not mangled ("fraud-canary", not "fraud_canary")
        assertThat(scrape).contains("experiment=\"fraud-canary\"").doesNotContain("fraud_canary");
        // every action's counter exists from the start: the rollback's at 0
        assertThat(scrape)
                .containsPattern(
                        "flink_taskmanager_job_task_operator_canaryflow_experiment_action_decisions\\{[^}]*action=\"ROLLBACK\"[^}]*\\} 0\\.0");
        assertThat(scrape)
                .containsPattern(
                        "flink_taskmanager_job_task_operator_canaryflow_experiment_action_decisions\\{[^}]*action=\"(ADVANCE|HOLD|PROMOTE)\"[^}]*\\} [1-9]");
    }
}
