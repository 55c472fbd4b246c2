package io.canaryflow.jobs.automation;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.canaryflow.jobs.cli.DecisionKeyOptions;
import io.canaryflow.jobs.cli.KafkaClientOptions;
import io.canaryflow.operators.control.DecisionVerifier;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The example automation as a service: follows the control topic (read_committed, a consumer group)
 * and points each promoted or rolled-back model's alias at the version serving it ({@link
 * AliasUpdater}). Every decision must be signed by a key given with {@code --public-key}; an
 * unsigned, forged, foreign-key or replayed decision is refused, logged with its reason and counted
 * ({@code canaryflow_automation_decisions_refused_total{reason}}). It logs when it connects to
 * Kafka and when it loses the connection, and serves {@code /health} (200 while connected and
 * polling, else 503) and {@code /metrics} (Prometheus text) on {@code --health-port}.
 */
@Command(
        name = "automation",
        mixinStandardHelpOptions = true,
        versionProvider = io.canaryflow.modelloader.tools.Version.class,
        description =
                "Follow the control topic and update model aliases (aliases.json) in a repository.")
public final class AutomationCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin KafkaClientOptions kafka;

    @Mixin DecisionKeyOptions keys;

    @Option(
            names = "--insecure-no-verify",
            description =
                    "Apply decisions without checking their signatures (never in production).")
    boolean noVerify;

    @Option(
            names = "--repository",
            required = true,
            paramLabel = "PATH",
            description = "The model repository (a local path) whose aliases to update.")
    Path repository;

    @Option(
            names = "--topic",
            defaultValue = "control",
            description = "The control topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(
            names = "--group-id",
            defaultValue = "canaryflow-automation",
            description = "Consumer group (default: ${DEFAULT-VALUE}).")
    String groupId;

    @Option(
            names = "--health-port",
            defaultValue = "9256",
            description =
                    "Port of /health and /metrics (default: ${DEFAULT-VALUE}; 0: no endpoint).")
    int healthPort;

    @Option(
            names = "--max-seconds",
            paramLabel = "N",
            description = "Stop after N seconds (default: run until stopped).")
    Long maxSeconds;

    private final AtomicLong applied = new AtomicLong();
    private final Map<DecisionVerifier.Rejection, AtomicLong> refused =
            new EnumMap<>(DecisionVerifier.Rejection.class);
    private final AtomicLong lastPoll = new AtomicLong();
    private volatile boolean connected;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        DecisionVerifier verifier = keys.verifier();
        if (verifier == null && !noVerify) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "--public-key FILE is required: the public key of the job's decisions"
                            + " (bin/control public-key prints it); --insecure-no-verify applies"
                            + " decisions unchecked");
        }
        for (DecisionVerifier.Rejection r : DecisionVerifier.Rejection.values()) {
            refused.put(r, new AtomicLong());
        }
        AliasUpdater updater = new AliasUpdater(repository);
        if (verifier != null) {
            log(out, "decisions must be signed by key %s", String.join(" or ", verifier.keyIds()));
        } else {
            log(
                    out,
                    "WARNING: --insecure-no-verify: decisions are applied without a signature check");
        }
        Properties p = kafka.properties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // an unreachable broker is retried with a growing pause, up to 10 s between attempts
        p.putIfAbsent(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "10000");
        HttpServer server = healthPort > 0 ? serve(healthPort) : null;
        if (server != null) {
            log(out, "health on http://localhost:%d/health, metrics on /metrics", healthPort);
        }
        log(out, "connecting to Kafka at %s, topic %s", kafka.bootstrapServers(), topic);
        long until =
                maxSeconds == null
                        ? Long.MAX_VALUE
                        : System.currentTimeMillis() + 1_000 * maxSeconds;
        long disconnectedSince = System.currentTimeMillis();
        long quiet = 30_000; // until the next "still no connection", doubling up to 10 min
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(topic));
            while (System.currentTimeMillis() < until) {
                int changed = 0;
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    JsonNode decision = DecisionKeyOptions.decision(r);
                    if (decision == null) {
                        continue; // a command, or not control JSON: nothing to apply
                    }
                    DecisionVerifier.Outcome check =
                            verifier == null
                                    ? new DecisionVerifier.Outcome(null, null)
                                    : DecisionKeyOptions.verify(verifier, r);
                    AliasUpdater.Outcome done = check.accepted() ? updater.apply(r.value()) : null;
                    if (done != null && done.refusal() != null) {
                        check = done.refusal();
                    }
                    if (!check.accepted()) {
                        refused.get(check.rejection()).incrementAndGet();
                        log(out, "%s", DecisionKeyOptions.refusal(r, decision, check));
                    } else if (done.changed()) {
                        changed++;
                    }
                }
                boolean now = connections(consumer.metrics()) > 0;
                if (now) {
                    lastPoll.set(System.currentTimeMillis());
                }
                if (now && !connected) {
                    log(out, "connected to Kafka at %s", kafka.bootstrapServers());
                    quiet = 30_000;
                } else if (!now && connected) {
                    disconnectedSince = System.currentTimeMillis();
                    log(
                            out,
                            "lost the connection to Kafka at %s; /health reports DOWN, retrying",
                            kafka.bootstrapServers());
                } else if (!now && System.currentTimeMillis() - disconnectedSince > quiet) {
                    log(
                            out,
                            "still no connection to Kafka at %s after %d s; /health reports DOWN,"
                                    + " retrying",
                            kafka.bootstrapServers(),
                            (System.currentTimeMillis() - disconnectedSince) / 1_000);
                    quiet = Math.min(2 * quiet, 600_000);
                }
                connected = now;
                if (now) {
                    try {
                        consumer.commitSync(); // after applying: at least once, made once by ids
                    } catch (org.apache.kafka.common.KafkaException e) {
                        // a rebalance or a broker blip: the next poll goes on, the decisions
                        // since the last commit are applied again (idempotent by decision id)
                        log(out, "commit failed, going on: %s", e.getMessage());
                    }
                }
                if (changed > 0) {
                    applied.addAndGet(changed);
                    log(out, "applied %d decisions (%d in all)", changed, applied.get());
                }
            }
        } finally {
            if (server != null) {
                server.stop(0);
            }
        }
        return 0;
    }

    /** Open connections of the consumer to brokers, from its own metrics. */
    static double connections(Map<MetricName, ? extends Metric> metrics) {
        double n = 0;
        for (Map.Entry<MetricName, ? extends Metric> e : metrics.entrySet()) {
            if (e.getKey().name().equals("connection-count")
                    && e.getKey().group().equals("consumer-metrics")
                    && e.getValue().metricValue() instanceof Number v) {
                n += v.doubleValue();
            }
        }
        return n;
    }

    private HttpServer serve(int port) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext(
                "/health",
                x -> {
                    boolean up = connected && System.currentTimeMillis() - lastPoll.get() < 30_000;
                    respond(
                            x,
                            up ? 200 : 503,
                            String.format(
                                    "{\"status\":\"%s\",\"connected\":%s,\"last_poll\":%d,\"applied\":%d}%n",
                                    up ? "UP" : "DOWN", connected, lastPoll.get(), applied.get()));
                });
        server.createContext(
                "/metrics",
                x ->
                        respond(
                                x,
                                200,
                                String.format(
                                        "# HELP canaryflow_automation_connected 1 while connected to Kafka.%n"
                                                + "# TYPE canaryflow_automation_connected gauge%n"
                                                + "canaryflow_automation_connected %d%n"
                                                + "# HELP canaryflow_automation_decisions_applied_total Decisions that changed an alias file.%n"
                                                + "# TYPE canaryflow_automation_decisions_applied_total counter%n"
                                                + "canaryflow_automation_decisions_applied_total %d%n"
                                                + "# HELP canaryflow_automation_last_poll_timestamp_seconds When it last polled Kafka while connected.%n"
                                                + "# TYPE canaryflow_automation_last_poll_timestamp_seconds gauge%n"
                                                + "canaryflow_automation_last_poll_timestamp_seconds %.3f%n"
                                                + "# HELP canaryflow_automation_decisions_refused_total Decisions refused, per reason.%n"
                                                + "# TYPE canaryflow_automation_decisions_refused_total counter%n"
                                                + "%s",
                                        connected ? 1 : 0,
                                        applied.get(),
                                        lastPoll.get() / 1000.0,
                                        refusedSamples())));
        server.start();
        return server;
    }

    /** One sample per reason, 0 included (a rate over a missing series is no alert). */
    private String refusedSamples() {
        StringBuilder s = new StringBuilder();
        refused.forEach(
                (reason, n) ->
                        s.append(
                                String.format(
                                        "canaryflow_automation_decisions_refused_total{reason=\"%s\"} %d%n",
                                        reason, n.get())));
        return s.toString();
    }

    /** Decisions refused so far, per reason. */
    long refused(DecisionVerifier.Rejection reason) {
        return refused.get(reason).get();
    }

    private static void respond(com.sun.net.httpserver.HttpExchange x, int status, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        x.sendResponseHeaders(status, bytes.length);
        try (OutputStream o = x.getResponseBody()) {
            o.write(bytes);
        }
    }

    private static void log(PrintWriter out, String format, Object... args) {
        out.println(Instant.now() + " automation: " + String.format(format, args));
        out.flush();
    }
}
