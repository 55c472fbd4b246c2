package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import java.io.File;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped job jar as a platform team runs it: a standalone Flink session cluster of separate
 * JVMs (a JobManager and TaskManagers whose class path is Flink's alone, no project classes), the
 * job submitted with Flink's own command line ({@code flink run -d -p 2 job.jar --config
 * inference.yaml}), a Kafka broker of its own. It runs at the deployment's parallelism, scores
 * every event once, and after its only TaskManager is killed mid-stream and another started, every
 * prediction is there exactly once for a {@code read_committed} consumer; stopped with a savepoint
 * ({@code flink stop}) and restored at parallelism 1 ({@code flink run -s -p 1}), it goes on, every
 * prediction still exactly once.
 */
class StandaloneClusterITCase {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Event time of the first event; later batches are 10 s of event time apart. */
    static final long BASE = 1_700_000_000_000L;

    @TempDir static Path work;
    static KafkaTestCluster kafka;
    static final List<Process> processes = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        TestModels.generate(work.resolve("models"));
    }

    @AfterAll
    static void stop() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        kafka.close();
    }

    /** Flink's own class path: this test's, without the project, its job jar's contents, tests. */
    static String flinkClassPath() {
        List<String> kept = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            String e = entry.replace('\\', '/');
            boolean project = e.contains("/target/classes") || e.contains("/target/test-classes");
            boolean inJobJar =
                    e.contains("/io/canaryflow/")
                            || e.contains("/com/microsoft/onnxruntime/")
                            || e.contains("flink-connector-kafka")
                            || e.contains("/org/apache/kafka/")
                            || e.contains("/info/picocli/")
                            || e.contains("/com/fasterxml/jackson/dataformat/");
            boolean testOnly =
                    e.contains("/org/junit/")
                            || e.contains("/org/assertj/")
                            || e.contains("/org/testcontainers/")
                            || e.contains("/org/tribuo/")
                            || e.contains("flink-test-utils")
                            || e.contains("/com/networknt/");
            if (!project && !inJobJar && !testOnly) {
                kept.add(entry);
            }
        }
        return String.join(File.pathSeparator, kept);
    }

    static Path jobJar() throws Exception {
        try (DirectoryStream<Path> d =
                Files.newDirectoryStream(Path.of("target"), "canaryflow-jobs-*-job.jar")) {
            for (Path p : d) {
                return p.toAbsolutePath();
            }
        }
        throw new AssertionError("no job jar in jobs/target: run the package phase first");
    }

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * A JVM of Flink's: its class path in an argument file (ONNX Runtime and long command lines).
     */
    static Process launch(Path conf, String name, String mainClass, String... args)
            throws Exception {
        return launchWith(conf, name, List.of("-Xmx700m"), mainClass, args);
    }

    /** What Flink's shipped config.yaml passes every JVM of its (env.java.opts.all) on Java 17. */
    static final List<String> FLINK_JAVA_OPTS =
            List.of(
                    "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
                    "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
                    "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang=ALL-UNNAMED",
                    "--add-opens=java.base/java.net=ALL-UNNAMED",
                    "--add-opens=java.base/java.io=ALL-UNNAMED",
                    "--add-opens=java.base/java.nio=ALL-UNNAMED",
                    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
                    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
                    "--add-opens=java.base/java.text=ALL-UNNAMED",
                    "--add-opens=java.base/java.time=ALL-UNNAMED",
                    "--add-opens=java.base/java.util=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
                    "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

    static Process launchWith(
            Path conf, String name, List<String> jvm, String mainClass, String... args)
            throws Exception {
        Path argFile = work.resolve(name + ".args");
        Files.writeString(argFile, "-cp " + flinkClassPath().replace("\\", "/"));
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvm);
        command.addAll(FLINK_JAVA_OPTS);
        command.add("-Dlog4j2.configurationFile=" + conf.resolve("log4j.properties"));
        command.add("@" + argFile);
        command.add(mainClass);
        command.addAll(List.of(args));
        ProcessBuilder pb =
                new ProcessBuilder(command)
                        .redirectErrorStream(true)
                        .redirectOutput(work.resolve(name + ".log").toFile());
        pb.environment().put("FLINK_CONF_DIR", conf.toString());
        Process p = pb.start();
        processes.add(p);
        return p;
    }

    /**
     * A TaskManager as Flink's scripts start it: its JVM memory options and the dynamic settings of
     * its resources, as {@code BashJavaUtils} derives them from the configuration.
     */
    static Process taskManager(Path conf, String name) throws Exception {
        Process utils =
                launch(
                        conf,
                        name + "-resources",
                        "org.apache.flink.runtime.util.bash.BashJavaUtils",
                        "GET_TM_RESOURCE_PARAMS",
                        "--configDir",
                        conf.toString());
        assertThat(utils.waitFor(2, TimeUnit.MINUTES)).isTrue();
        List<String> results = new ArrayList<>();
        for (String line : Files.readAllLines(work.resolve(name + "-resources.log"))) {
            if (line.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:")) {
                results.add(line.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim());
            }
        }
        assertThat(results).as(logs()).hasSize(2);
        List<String> jvm = List.of(results.get(0).split("\\s+"));
        List<String> args = new ArrayList<>(List.of("--configDir", conf.toString()));
        args.addAll(List.of(results.get(1).split("\\s+")));
        return launchWith(
                conf,
                name,
                jvm,
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner",
                args.toArray(String[]::new));
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what + logs());
            }
            Thread.sleep(500);
        }
    }

    /** The end of every process's log, for a failure's message. */
    static String logs() {
        StringBuilder out = new StringBuilder();
        try (DirectoryStream<Path> d = Files.newDirectoryStream(work, "*.log")) {
            for (Path log : d) {
                List<String> lines = Files.readAllLines(log);
                out.append("\n--- ").append(log.getFileName()).append('\n');
                lines.subList(Math.max(0, lines.size() - 25), lines.size())
                        .forEach(l -> out.append(l).append('\n'));
            }
        } catch (java.io.IOException e) {
            out.append(e);
        }
        return out.toString();
    }

    /** The parallelism of each of a job's vertices, as its REST API reports them. */
    static Set<Integer> parallelisms(int restPort, String jobId) {
        Set<Integer> parallelisms = new HashSet<>();
        rest(restPort, "/jobs/" + jobId)
                .path("vertices")
                .forEach(v -> parallelisms.add(v.path("parallelism").asInt()));
        return parallelisms;
    }

    /** The id of the running job other than {@code other}, once there is one. */
    static String runningJob(int restPort, String other) throws Exception {
        String[] id = new String[1];
        await(
                "a job running" + (other == null ? "" : " other than " + other),
                Duration.ofMinutes(2),
                () -> {
                    JsonNode jobs = rest(restPort, "/jobs/overview");
                    for (JsonNode j : jobs == null ? JSON.createArrayNode() : jobs.path("jobs")) {
                        if (j.path("state").asText().equals("RUNNING")
                                && !j.path("jid").asText().equals(other)) {
                            id[0] = j.path("jid").asText();
                            return true;
                        }
                    }
                    return false;
                });
        return id[0];
    }

    static JsonNode rest(int port, String path) {
        try {
            HttpResponse<String> r =
                    HttpClient.newHttpClient()
                            .send(
                                    HttpRequest.newBuilder(
                                                    URI.create("http://localhost:" + port + path))
                                            .timeout(Duration.ofSeconds(10))
                                            .build(),
                                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
        } catch (Exception e) {
            return null;
        }
    }

    @Test
    void shouldRunTheShippedJarAtFlinkRunsParallelismAndSurviveALostTaskManager() throws Exception {
        String name = "standalone";
        int restPort = freePort();
        Path conf = Files.createDirectories(work.resolve("conf"));
        Files.writeString(
                conf.resolve("config.yaml"),
                String.join(
                        "\n",
                        "jobmanager.rpc.address: localhost",
                        "jobmanager.rpc.port: " + freePort(),
                        "jobmanager.bind-host: localhost",
                        "taskmanager.bind-host: localhost",
                        "taskmanager.host: localhost",
                        "rest.port: " + restPort,
                        "rest.address: localhost",
                        "rest.bind-address: localhost",
                        "jobmanager.memory.process.size: 700m",
                        "taskmanager.memory.process.size: 1200m",
                        "taskmanager.numberOfTaskSlots: 2",
                        "parallelism.default: 1",
                        "restart-strategy.type: fixed-delay",
                        "restart-strategy.fixed-delay.attempts: 20",
                        "restart-strategy.fixed-delay.delay: 1 s",
                        "heartbeat.timeout: 8000",
                        "heartbeat.interval: 1000",
                        "io.tmp.dirs: " + work.resolve("tmp"),
                        ""));
        Files.writeString(
                conf.resolve("log4j.properties"),
                "rootLogger.level = INFO\nrootLogger.appenderRef.console.ref = console\n"
                        + "appender.console.type = Console\nappender.console.name = console\n"
                        + "appender.console.layout.type = PatternLayout\n"
                        + "appender.console.layout.pattern = %d{HH:mm:ss,SSS} %-5p %c{1} - %m%n\n");
        Files.createDirectories(work.resolve("tmp"));
        for (String topic :
                List.of("features", "predictions", "dead-letters", "monitoring", "control")) {
            kafka.clients().createTopic(name + "-" + topic, topic.equals("features") ? 4 : 1);
        }
        // decisions signed with a key of the deployment's own, read by the client from a file
        io.canaryflow.operators.control.DecisionSigner signer =
                io.canaryflow.operators.control.DecisionSigner.generate();
        Path signingKey = work.resolve("decisions.pem");
        Files.writeString(signingKey, signer.toPem());
        Path jobConfig = work.resolve("inference.yaml");
        Files.writeString(
                jobConfig,
                String.join(
                        "\n",
                        "job:",
                        "  name: canaryflow-standalone",
                        "kafka:",
                        "  bootstrap-servers: " + kafka.bootstrapServers(),
                        "  group-id: " + name,
                        "  starting-offsets: earliest",
                        "  transactional-id-prefix: " + name,
                        "  transaction-timeout: 5 min",
                        "  topics:",
                        "    features: " + name + "-features",
                        "    predictions: " + name + "-predictions",
                        "    dead-letters: " + name + "-dead-letters",
                        "    monitoring: " + name + "-monitoring",
                        "    control: " + name + "-control",
                        "control:",
                        "  enabled: true",
                        "  key: standalone-control-key-0123456789",
                        "  signing-key-file: " + signingKey,
                        "models:",
                        "  repository: " + work.resolve("models"),
                        "  device: cpu",
                        "checkpoint:",
                        "  interval: 1 s",
                        "  directory: " + work.resolve("checkpoints").toUri(),
                        "state:",
                        "  backend: hashmap",
                        "monitoring:",
                        "  window: 5 s",
                        "experiments:",
                        "  - name: fraud",
                        "    model: " + DemoModels.MODEL,
                        "    baseline: " + DemoModels.BASELINE,
                        "    candidate: " + DemoModels.GOOD_CANDIDATE,
                        "    canary-percent: 20",
                        "  - name: fraud-c",
                        "    model: " + DemoModels.MODEL,
                        "    baseline: " + DemoModels.BASELINE,
                        "    candidate: " + DemoModels.GOOD_CANDIDATE,
                        "    canary-percent: 5",
                        "  - name: fraud-b",
                        "    model: " + DemoModels.MODEL,
                        "    baseline: " + DemoModels.BASELINE,
                        "    candidate: " + DemoModels.GOOD_CANDIDATE,
                        "    canary-percent: 50",
                        ""));

        launch(
                conf,
                "jobmanager",
                "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint",
                "--configDir",
                conf.toString());
        Process tm1 = taskManager(conf, "taskmanager-1");
        await(
                "a TaskManager registered",
                Duration.ofMinutes(2),
                () -> {
                    JsonNode o = rest(restPort, "/overview");
                    return o != null && o.path("taskmanagers").asInt() >= 1;
                });

        // flink run -d -p 2 job.jar --config inference.yaml
        Process client =
                launch(
                        conf,
                        "client",
                        "org.apache.flink.client.cli.CliFrontend",
                        "run",
                        "-d",
                        "-p",
                        "2",
                        jobJar().toString(),
                        "--config",
                        jobConfig.toString());
        assertThat(client.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(client.exitValue()).as(Files.readString(work.resolve("client.log"))).isZero();
        String jobId = runningJob(restPort, null);
        // the deployment's parallelism, on every operator
        assertThat(parallelisms(restPort, jobId)).containsExactly(2);

        int first = 4_000;
        List<InferenceJobITCase.Sent> sent =
                new ArrayList<>(
                        InferenceJobITCase.sendEvents(
                                kafka.clients(), name + "-features", "fraud", first, 500, 1, BASE));
        kafka.clients()
                .readCommitted(
                        name + "-predictions", first, Duration.ofSeconds(2), Duration.ofMinutes(3));

        // a TaskManager lost mid-stream: killed, then a new one started
        tm1.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        List<InferenceJobITCase.Sent> more =
                InferenceJobITCase.sendEvents(
                        kafka.clients(),
                        name + "-features",
                        "fraud-b",
                        4_000,
                        500,
                        2,
                        BASE + 10_000);
        taskManager(conf, "taskmanager-2");
        int total = first + more.size();
        List<ConsumerRecord<byte[], byte[]>> predictions =
                kafka.clients()
                        .readCommitted(
                                name + "-predictions",
                                total,
                                Duration.ofSeconds(5),
                                Duration.ofMinutes(4));
        Set<String> ids = new HashSet<>();
        for (JsonNode p : InferenceJobITCase.values(predictions)) {
            assertThat(ids.add(p.path("event_id").asText()))
                    .as("prediction of %s once", p.path("event_id"))
                    .isTrue();
        }
        assertThat(ids).hasSize(total);
        assertThat(
                        kafka.clients()
                                .readCommitted(
                                        name + "-dead-letters",
                                        0,
                                        Duration.ofSeconds(3),
                                        Duration.ofSeconds(30)))
                .isEmpty();
        JsonNode job = rest(restPort, "/jobs/" + jobId);
        assertThat(job.path("state").asText()).isEqualTo("RUNNING");
        JsonNode exceptions = rest(restPort, "/jobs/" + jobId + "/exceptions");
        assertThat(exceptions.path("exceptionHistory").path("entries").size())
                .as("the lost TaskManager failed the job's tasks at least once")
                .isGreaterThanOrEqualTo(1);

        // flink stop --savepointPath, then flink run -s at another parallelism: the state (the
        // judge's typed state among it) restores under the job jar's own class loader
        Path savepoints = work.resolve("savepoints");
        Process stop =
                launch(
                        conf,
                        "stop",
                        "org.apache.flink.client.cli.CliFrontend",
                        "stop",
                        "--savepointPath",
                        savepoints.toUri().toString(),
                        jobId);
        assertThat(stop.waitFor(3, TimeUnit.MINUTES)).isTrue();
        String stopped = Files.readString(work.resolve("stop.log"));
        assertThat(stop.exitValue()).as(stopped).isZero();
        java.util.regex.Matcher savepoint =
                java.util.regex.Pattern.compile("Savepoint completed\\. Path: (\\S+)")
                        .matcher(stopped);
        assertThat(savepoint.find()).as(stopped).isTrue();
        Process restore =
                launch(
                        conf,
                        "restore",
                        "org.apache.flink.client.cli.CliFrontend",
                        "run",
                        "-d",
                        "-p",
                        "1",
                        "-s",
                        savepoint.group(1),
                        jobJar().toString(),
                        "--config",
                        jobConfig.toString());
        assertThat(restore.waitFor(3, TimeUnit.MINUTES)).isTrue();
        assertThat(restore.exitValue()).as(Files.readString(work.resolve("restore.log"))).isZero();
        String restored = runningJob(restPort, jobId);
        assertThat(parallelisms(restPort, restored)).containsExactly(1);
        List<InferenceJobITCase.Sent> last =
                InferenceJobITCase.sendEvents(
                        kafka.clients(),
                        name + "-features",
                        "fraud-c",
                        2_000,
                        200,
                        3,
                        BASE + 20_000);
        int all = total + last.size();
        Set<String> allIds = new HashSet<>();
        for (JsonNode p :
                InferenceJobITCase.values(
                        kafka.clients()
                                .readCommitted(
                                        name + "-predictions",
                                        all,
                                        Duration.ofSeconds(5),
                                        Duration.ofMinutes(4)))) {
            assertThat(allIds.add(p.path("event_id").asText()))
                    .as("prediction of %s once", p.path("event_id"))
                    .isTrue();
        }
        assertThat(allIds).hasSize(all);
        // the judge decided before and after the restore, its decisions one chain per experiment
        List<ConsumerRecord<byte[], byte[]>> controlRecords =
                kafka.clients()
                        .readCommitted(
                                name + "-control", 1, Duration.ofSeconds(3), Duration.ofMinutes(1));
        List<JsonNode> decisions =
                InferenceJobITCase.values(controlRecords).stream()
                        .filter(n -> n.path("type").asText().equals("decision"))
                        .toList();
        // every decision, before and after the restore at another parallelism, verifies with the
        // public key alone, and its experiment's decided_at only grows (what readers refuse
        // replays by)
        var verifier = new io.canaryflow.operators.control.DecisionVerifier(List.of(signer.key()));
        java.util.Map<String, Long> decidedAt = new java.util.HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : controlRecords) {
            JsonNode n = new ObjectMapper().readTree(r.value());
            if (!n.path("type").asText().equals("decision")) {
                continue;
            }
            var keyId = r.headers().lastHeader("canaryflow-key-id");
            var signature = r.headers().lastHeader("canaryflow-signature");
            assertThat(keyId).as("key id of %s", n.path("decision_id")).isNotNull();
            assertThat(signature).as("signature of %s", n.path("decision_id")).isNotNull();
            assertThat(verifier.check(r.value(), keyId.value(), signature.value()).accepted())
                    .as("decision %s verifies", n.path("decision_id"))
                    .isTrue();
            Long before =
                    decidedAt.put(n.path("experiment").asText(), n.path("decided_at").asLong());
            if (before != null) {
                assertThat(n.path("decided_at").asLong()).isGreaterThan(before);
            }
        }
        java.util.Map<String, String> lastOf = new java.util.HashMap<>();
        Set<Long> windows = new HashSet<>();
        for (JsonNode d : decisions) {
            String experiment = d.path("experiment").asText();
            assertThat(
                            d.path("previous_decision_id").isNull()
                                    ? null
                                    : d.path("previous_decision_id").asText())
                    .as("the chain of %s", experiment)
                    .isEqualTo(lastOf.get(experiment));
            lastOf.put(experiment, d.path("decision_id").asText());
            windows.add(d.path("window").path("start").asLong() - BASE);
        }
        assertThat(windows).as("windows judged before and after the restore").contains(0L, 10_000L);
    }
}
