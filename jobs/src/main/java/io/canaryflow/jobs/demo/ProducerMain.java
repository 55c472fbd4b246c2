package io.canaryflow.jobs.demo;

import io.canaryflow.jobs.cli.Cli;
import io.canaryflow.jobs.cli.KafkaClientOptions;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The demo's synthetic producer on its own, against any Kafka (the compose file runs it): card
 * payments to the features topic at a steady rate, spread over the given experiments, a bad record
 * now and then, and late labels.
 */
@Command(
        name = "producer",
        mixinStandardHelpOptions = true,
        versionProvider = io.canaryflow.modelloader.tools.Version.class,
        description = "Send synthetic feature events (and their late labels) to Kafka.")
public final class ProducerMain implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Mixin KafkaClientOptions kafka;

    @Option(
            names = "--topic",
            defaultValue = "features",
            description = "Features topic (default: ${DEFAULT-VALUE}).")
    String topic;

    @Option(
            names = "--labels-topic",
            description = "Labels topic: half the events get a label, some late (default: none).")
    String labelsTopic;

    @Option(
            names = "--label-horizon",
            defaultValue = "30000",
            paramLabel = "MS",
            description = "The job's labels.horizon in ms (default: ${DEFAULT-VALUE}).")
    long labelHorizonMillis;

    @Option(
            names = "--experiments",
            required = true,
            split = ",",
            description = "Experiments the events are for, comma-separated.")
    List<String> experiments;

    @Option(
            names = "--rate",
            defaultValue = "500",
            description = "Events per second (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(
            names = "--bad-every",
            defaultValue = "500",
            description =
                    "One malformed record every N events (default: ${DEFAULT-VALUE}; 0: none).")
    int badEvery;

    @Option(
            names = "--units",
            defaultValue = "5000",
            description = "Distinct users (default: ${DEFAULT-VALUE}).")
    int units;

    @Option(
            names = "--shift-after",
            defaultValue = "0",
            paramLabel = "SECONDS",
            description =
                    "Shift 'amount' by about one standard deviation after this long (0: never).")
    long shiftAfter;

    @Option(
            names = "--seconds",
            defaultValue = "0",
            description = "Stop after this long (0: run until stopped).")
    long seconds;

    @Override
    public Integer call() throws Exception {
        if (rate < 1) {
            throw new IllegalArgumentException("--rate must be at least 1, got " + rate);
        }
        PrintWriter out = spec.commandLine().getOut();
        try (SyntheticProducer producer =
                new SyntheticProducer(
                        kafka.properties(),
                        topic,
                        experiments,
                        rate,
                        badEvery,
                        units,
                        shiftAfter,
                        labelsTopic,
                        labelHorizonMillis)) {
            Thread thread = new Thread(producer, "producer");
            thread.start();
            long end = seconds > 0 ? System.currentTimeMillis() + 1_000 * seconds : Long.MAX_VALUE;
            while (thread.isAlive() && System.currentTimeMillis() < end) {
                Thread.sleep(Math.min(10_000, Math.max(1, end - System.currentTimeMillis())));
                out.printf(
                        "%s producer: %d events (%d bad) to %s%n",
                        Instant.now(), producer.produced(), producer.bad(), topic);
                out.flush();
            }
        }
        return 0;
    }

    public static void main(String[] args) {
        Cli.main(new ProducerMain(), args);
    }
}
