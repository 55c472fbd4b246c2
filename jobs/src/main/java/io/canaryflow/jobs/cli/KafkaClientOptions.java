package io.canaryflow.jobs.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import picocli.CommandLine.Option;

/**
 * How a command-line tool reaches Kafka: the brokers, and a client properties file for everything
 * else a secured cluster needs (like Kafka's own {@code --command-config}): {@code
 * security.protocol}, SASL and SSL settings, config providers ({@code ${env:KAFKA_PASSWORD}}).
 *
 * <p>Every tool gives up on a broker it cannot reach after {@code --timeout} (10 s), naming the
 * address it tried; the client properties file may set Kafka's own timeouts instead.
 */
public final class KafkaClientOptions {
    @Option(
            names = "--bootstrap-servers",
            required = true,
            paramLabel = "HOST:PORT[,...]",
            description = "Kafka brokers.")
    String bootstrapServers;

    @Option(
            names = "--command-config",
            paramLabel = "FILE",
            description =
                    "Kafka client properties (security.protocol, sasl.*, ssl.*, config.providers, ...), as for Kafka's own tools; its timeouts win over --timeout.")
    Path commandConfig;

    @Option(
            names = "--timeout",
            paramLabel = "SECONDS",
            defaultValue = "10",
            description =
                    "How long to wait for Kafka before giving up (default: ${DEFAULT-VALUE} s).")
    long timeoutSeconds;

    /**
     * The client properties: the file's, then the brokers, then timeouts from {@code --timeout}
     * where the file sets none.
     */
    public Properties properties() throws IOException {
        Properties p = new Properties();
        if (commandConfig != null) {
            if (!Files.isReadable(commandConfig)) {
                throw new IllegalArgumentException(
                        "--command-config: cannot read '"
                                + commandConfig
                                + "' (the Kafka client properties)");
            }
            try (Reader in = Files.newBufferedReader(commandConfig)) {
                p.load(in);
            }
        }
        p.put("bootstrap.servers", bootstrapServers);
        // --timeout, unless the file sets Kafka's own; the Admin client needs
        // default.api.timeout.ms
        // at least request.timeout.ms
        long ms = timeout().toMillis();
        Long fileRequest = millis(p, CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG);
        Long fileApi = millis(p, CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG);
        long api = fileApi != null ? fileApi : Math.max(ms, fileRequest == null ? 0 : fileRequest);
        long request = fileRequest != null ? fileRequest : Math.min(Math.min(ms, 30_000), api);
        p.put(CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, String.valueOf(api));
        p.put(CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG, String.valueOf(request));
        return p;
    }

    /** A duration in milliseconds the properties set (trimmed, as Kafka reads it), or null. */
    private static Long millis(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "--command-config: '" + key + "' must be a number of milliseconds, got " + v);
        }
    }

    /** Producer properties: {@link #properties()}, its waits bounded by {@code --timeout}. */
    public Properties producerProperties() throws IOException {
        Properties p = properties();
        long ms = timeout().toMillis();
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, String.valueOf(ms));
        long request = millis(p, CommonClientConfigs.REQUEST_TIMEOUT_MS_CONFIG);
        // Kafka requires delivery.timeout.ms >= linger.ms + request.timeout.ms (linger: 5 ms)
        Long lingerSet = millis(p, ProducerConfig.LINGER_MS_CONFIG);
        long linger = lingerSet == null ? 5 : lingerSet;
        p.putIfAbsent(
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
                String.valueOf(Math.max(ms, request + linger)));
        return p;
    }

    public Duration timeout() {
        if (timeoutSeconds < 1) {
            throw new IllegalArgumentException(
                    "--timeout must be at least 1 s, got " + timeoutSeconds);
        }
        return Duration.ofSeconds(timeoutSeconds);
    }

    /** Shortens the wait to {@code seconds} (a command's own time limit), if shorter. */
    public void atMost(long seconds) {
        timeoutSeconds = Math.max(1, Math.min(timeoutSeconds, seconds));
    }

    /**
     * Fails unless the brokers answer within the timeout and {@code topic} exists there: "cannot
     * reach Kafka at ADDRESS within N s", or "topic 'T' does not exist at ADDRESS".
     */
    public void requireTopic(String topic) throws IOException {
        Properties p = properties();
        p.putIfAbsent(AdminClientConfig.RETRY_BACKOFF_MAX_MS_CONFIG, "1000");
        long ms = timeout().toMillis();
        Admin admin = Admin.create(p);
        try {
            admin.describeTopics(List.of(topic)).allTopicNames().get(ms, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalArgumentException(
                        "topic '" + topic + "' does not exist at " + bootstrapServers);
            }
            throw unreachable(e.getCause());
        } catch (java.util.concurrent.TimeoutException e) {
            throw unreachable(null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw unreachable(e);
        } finally {
            admin.close(Duration.ZERO);
        }
    }

    private IllegalStateException unreachable(Throwable cause) {
        String why =
                cause == null || cause.getMessage() == null
                        ? ""
                        : " (" + cause.getClass().getSimpleName() + ": " + cause.getMessage() + ")";
        return new IllegalStateException(
                "cannot reach Kafka at "
                        + bootstrapServers
                        + " within "
                        + timeoutSeconds
                        + " s"
                        + why
                        + "; check --bootstrap-servers and the client properties, or wait longer"
                        + " with --timeout");
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }
}
