package io.canaryflow.jobs.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import picocli.CommandLine.Option;

/**
 * How a command-line tool reaches Kafka: the brokers, and a client properties file for everything
 * else a secured cluster needs (like Kafka's own {@code --command-config}): {@code
 * security.protocol}, SASL and SSL settings, config providers ({@code ${env:KAFKA_PASSWORD}}).
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
                    "Kafka client properties (security.protocol, sasl.*, ssl.*, config.providers, ...), as for Kafka's own tools.")
    Path commandConfig;

    /** The client properties: the file's, then the brokers. */
    public Properties properties() throws IOException {
        Properties p = new Properties();
        if (commandConfig != null) {
            if (!Files.isReadable(commandConfig)) {
                throw new IllegalArgumentException(
                        "--command-config: cannot read '" + commandConfig + "'");
            }
            try (Reader in = Files.newBufferedReader(commandConfig)) {
                p.load(in);
            }
        }
        p.put("bootstrap.servers", bootstrapServers);
        return p;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }
}
