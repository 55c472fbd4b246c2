package io.canaryflow.jobs.demo;

import io.canaryflow.jobs.InferenceJob;
import io.canaryflow.jobs.Pipeline;
import io.canaryflow.jobs.cli.Cli;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.config.JobOptions;
import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.routing.RolloutPlan;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The embedded default: a real Kafka broker in this JVM (or {@code --bootstrap-servers} for an
 * existing one), a local Flink with its web UI, generated models, a synthetic producer, and a live
 * view of what comes out. Ctrl-C stops everything cleanly; a failed start stops what it started
 * (the broker first) and exits non-zero with the reason.
 */
@Command(
        name = "demo",
        mixinStandardHelpOptions = true,
        versionProvider = io.canaryflow.modelloader.tools.Version.class,
        description =
                "Run Canaryflow on the embedded default: an in-process Kafka, a local Flink, generated models.")
public final class DemoMain implements Callable<Integer> {
    private static final String PROMETHEUS_REPORTER =
            "org.apache.flink.metrics.prometheus.PrometheusReporterFactory";

    @Option(
            names = "--bootstrap-servers",
            paramLabel = "HOST:PORT",
            description = "Use this Kafka instead of starting one in-process.")
    String bootstrapServers;

    @Option(
            names = "--rate",
            defaultValue = "2000",
            description = "Events per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(
            names = "--seconds",
            defaultValue = "0",
            description = "Stop after this long (default: run until Ctrl-C).")
    long seconds;

    @Option(
            names = "--work",
            defaultValue = "target/demo",
            paramLabel = "DIR",
            description = "Models, logs, checkpoints (default: ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(
            names = "--config",
            defaultValue = "configs/demo.yaml",
            paramLabel = "FILE",
            description = "Job configuration (default: ${DEFAULT-VALUE}).")
    Path configFile;

    @Option(
            names = "--web-port",
            defaultValue = "8081",
            description = "Flink web UI port (default: ${DEFAULT-VALUE}).")
    int webPort;

    @Option(
            names = "--metrics-port",
            defaultValue = "9249",
            description = "Prometheus endpoint port (default: ${DEFAULT-VALUE}).")
    int metricsPort;

    @Option(
            names = "--bad-every",
            defaultValue = "500",
            description =
                    "One deliberately bad record every N events (default: ${DEFAULT-VALUE}; 0: none).")
    int badEvery;

    @Option(
            names = "--shift-after",
            defaultValue = "60",
            paramLabel = "SECONDS",
            description =
                    "Shift 'amount' by about one standard deviation after this long, so that the monitor reports drift (default: ${DEFAULT-VALUE}; 0: never).")
    long shiftAfter;

    public static void main(String[] args) {
        Cli.main(new DemoMain(), args);
    }

    @Override
    public Integer call() throws Exception {
        Path work = workDir.toAbsolutePath();
        if (rate < 1) {
            throw new IllegalArgumentException("--rate must be at least 1, got " + rate);
        }
        Files.createDirectories(work);

        say("Canaryflow demo — work directory %s", work);
        Path models = work.resolve("models");
        if (!Files.exists(
                models.resolve(DemoModels.MODEL)
                        .resolve(DemoModels.BAD_CANDIDATE)
                        .resolve(ModelRepository.MANIFEST_FILE))) {
            say("training demo models with Tribuo and exporting them to ONNX ...");
            for (Manifest m : DemoModels.generate(models, 7, 40_000, 10_000)) {
                say("  %s/%-7s holdout AUC %.3f", m.model(), m.version(), m.metrics().get("auc"));
            }
        } else {
            say("models already in %s", models);
        }

        EmbeddedKafka embedded = startBroker(work);
        try {
            return run(work, embedded);
        } catch (Exception | Error e) {
            // a failed start (a busy port, a bad configuration) must not leave the broker running
            if (embedded != null) {
                say("stopping the embedded broker");
                embedded.close();
            }
            throw e;
        }
    }

    private EmbeddedKafka startBroker(Path work) throws Exception {
        if (bootstrapServers != null) {
            return null;
        }
        say("starting an in-process Kafka broker (KRaft) ...");
        EmbeddedKafka embedded =
                EmbeddedKafka.start(work.resolve("kafka-" + System.currentTimeMillis()));
        say("Kafka broker on %s", embedded.bootstrapServers());
        return embedded;
    }

    /** Starts the job, the producer and the live view on the broker; runs until stopped. */
    private int run(Path work, EmbeddedKafka embedded) throws Exception {
        Path models = work.resolve("models");
        String bootstrap = embedded == null ? bootstrapServers : embedded.bootstrapServers();

        Map<String, String> overrides = new HashMap<>();
        overrides.put(JobOptions.BOOTSTRAP_SERVERS.key(), bootstrap);
        overrides.put(JobOptions.MODEL_REPOSITORY.key(), models.toString());
        overrides.putIfAbsent(
                JobOptions.CHECKPOINT_DIRECTORY.key(),
                work.resolve("checkpoints").toUri().toString());
        if (System.getenv("CANARYFLOW_CONTROL_KEY") == null) {
            // The demo signs nothing itself; a key of its own lets bin/control send commands.
            byte[] random = new byte[16];
            new java.security.SecureRandom().nextBytes(random);
            overrides.putIfAbsent(
                    JobOptions.CONTROL_KEY.key(), java.util.HexFormat.of().formatHex(random));
        }
        Path publicKey = null;
        String signingEnv = System.getenv(JobConfig.SIGNING_KEY_ENV);
        if ((signingEnv == null || signingEnv.isBlank())
                && !overrides.containsKey(JobOptions.SIGNING_KEY.key())) {
            // a key pair of the demo's own, kept with its work directory
            Path keys = work.resolve("keys");
            Files.createDirectories(keys);
            Path privateKey = keys.resolve("decisions.pem");
            publicKey = keys.resolve("decisions.pub.pem");
            if (!Files.exists(privateKey)) {
                io.canaryflow.operators.control.DecisionSigner signer =
                        io.canaryflow.operators.control.DecisionSigner.generate();
                io.canaryflow.jobs.cli.KeyCommands.Keygen.writeOwnerOnly(
                        privateKey, signer.toPem());
                Files.writeString(publicKey, signer.key().toPem());
            }
            overrides.putIfAbsent(JobOptions.SIGNING_KEY_FILE.key(), privateKey.toString());
        }
        if (!Files.isReadable(configFile)) {
            throw new IllegalArgumentException("--config: cannot read '" + configFile + "'");
        }
        JobConfig config = JobConfig.load(configFile, overrides);
        if (config.get(JobOptions.CONTROL_ENABLED) && config.get(JobOptions.CONTROL_KEY) != null) {
            say(
                    "control key (to send commands with bin/control): export CANARYFLOW_CONTROL_KEY=%s",
                    config.get(JobOptions.CONTROL_KEY));
        }
        if (config.get(JobOptions.CONTROL_ENABLED) && publicKey != null) {
            say(
                    "decisions are signed (Ed25519, key %s); verify them with --public-key %s"
                            + " (bin/control tail, status, automation)",
                    config.decisionSigner().key().id(), publicKey);
        }
        createTopics(bootstrap, config);

        Configuration flink = Pipeline.localConfiguration(config);
        flink.set(RestOptions.PORT, webPort);
        flink.set(CoreOptions.TMP_DIRS, work.resolve("tmp").toString());
        flink.setString("metrics.reporter.prom.factory.class", PROMETHEUS_REPORTER);
        flink.setString("metrics.reporter.prom.port", String.valueOf(metricsPort));
        flink.setString("metrics.reporter.prom.filterLabelValueCharacters", "false");
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(flink);
        InferenceJob.build(env, config);
        JobClient job = env.executeAsync(config.get(JobOptions.JOB_NAME));
        try {
            awaitRunning(job);
        } catch (Exception e) {
            job.cancel();
            throw e;
        }
        say("Flink job %s running — web UI http://localhost:%d", job.getJobID(), webPort);
        say("Prometheus metrics on http://localhost:%d/metrics (canaryflow_* series)", metricsPort);
        for (RolloutPlan plan : config.plans()) {
            say(
                    "  experiment %-13s %s: baseline %s, candidate %s%s",
                    plan.experiment(),
                    plan.mode().wireName(),
                    plan.baseline(),
                    plan.candidate(),
                    plan.mode() == RolloutPlan.Mode.CANARY
                            ? " at " + plan.canaryPercent() + " %"
                            : "");
        }

        List<String> experiments = config.plans().stream().map(RolloutPlan::experiment).toList();
        SyntheticProducer producer =
                new SyntheticProducer(
                        SyntheticProducer.client(bootstrap),
                        config.get(JobOptions.FEATURES_TOPIC),
                        experiments,
                        rate,
                        badEvery,
                        5_000,
                        shiftAfter,
                        config.get(JobOptions.LABELS_ENABLED)
                                ? config.get(JobOptions.LABELS_TOPIC)
                                : null,
                        config.get(JobOptions.LABEL_HORIZON).toMillis());
        LiveView view =
                new LiveView(
                        bootstrap,
                        config.get(JobOptions.PREDICTIONS_TOPIC),
                        config.get(JobOptions.DEAD_LETTERS_TOPIC),
                        config.get(JobOptions.MONITORING_TOPIC),
                        config.get(JobOptions.CONTROL_ENABLED)
                                ? config.get(JobOptions.CONTROL_TOPIC)
                                : null,
                        producer::produced,
                        System.out,
                        Duration.ofSeconds(3));
        Thread producerThread = new Thread(producer, "demo-producer");
        Thread viewThread = new Thread(view, "demo-view");
        say("producing %,d events/s (one bad record in %d); Ctrl-C to stop", rate, badEvery);
        if (shiftAfter > 0) {
            say(
                    "after %d s '%s' shifts by +%.1f: watch the monitor lines turn to ALERT",
                    shiftAfter, SyntheticProducer.SHIFTED_FEATURE, SyntheticProducer.SHIFT);
        }
        producerThread.start();
        viewThread.start();

        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch done = new CountDownLatch(1);
        EmbeddedKafka broker = embedded;
        Thread hook =
                new Thread(
                        () -> {
                            stopped.countDown();
                            try {
                                done.await(60, TimeUnit.SECONDS);
                            } catch (InterruptedException e) {
                                Thread.currentThread().interrupt();
                            }
                        },
                        "demo-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        if (seconds > 0) {
            stopped.await(seconds, TimeUnit.SECONDS);
        } else {
            stopped.await();
        }

        say("stopping ...");
        producer.stop();
        producerThread.join(10_000);
        producer.close();
        view.stop();
        viewThread.join(10_000);
        try {
            job.cancel().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            say("cancelling the job: %s", e.getMessage());
        }
        if (broker != null) {
            broker.close();
        }
        say(
                "stopped: %,d events produced (%,d deliberately bad)",
                producer.produced(), producer.bad());
        done.countDown();
        if (seconds > 0) {
            Runtime.getRuntime().removeShutdownHook(hook);
        }
        return 0;
    }

    static void awaitRunning(JobClient job) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            JobStatus status = job.getJobStatus().get();
            if (status == JobStatus.RUNNING) {
                return;
            }
            if (status.isGloballyTerminalState()) {
                throw new IllegalStateException("the job ended before it ran: " + status);
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the job did not start within 60 s");
    }

    static void createTopics(String bootstrap, JobConfig config) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = new java.util.ArrayList<>();
            for (String topic :
                    List.of(
                            config.get(JobOptions.FEATURES_TOPIC),
                            config.get(JobOptions.PREDICTIONS_TOPIC),
                            config.get(JobOptions.DEAD_LETTERS_TOPIC),
                            config.get(JobOptions.MONITORING_TOPIC),
                            config.get(JobOptions.LABELS_TOPIC),
                            config.get(JobOptions.CONTROL_TOPIC))) {
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, 2, (short) 1));
                }
            }
            admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static void say(String format, Object... args) {
        System.out.println("canaryflow | " + String.format(format, args));
    }
}
