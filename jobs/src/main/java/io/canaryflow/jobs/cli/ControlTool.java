package io.canaryflow.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.operators.control.Command;
import io.canaryflow.operators.control.CommandSigner;
import io.canaryflow.operators.control.ControlCodec;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * The control topic from the command line (same jar as the job): {@code send} a signed command,
 * {@code tail} the decisions, show each experiment's {@code status}, or run the example {@code
 * automation}. {@code --help} on each. Decisions are read with {@code
 * isolation.level=read_committed}: only what the job committed. Every command takes {@code
 * --command-config FILE} with the Kafka client properties of a secured cluster.
 */
@CommandLine.Command(
        name = "control",
        mixinStandardHelpOptions = true,
        versionProvider = io.canaryflow.modelloader.tools.Version.class,
        description = "Send signed commands to Canaryflow's control topic and read its decisions.",
        subcommands = {
            ControlTool.Send.class,
            ControlTool.Tail.class,
            ControlTool.Status.class,
            io.canaryflow.jobs.automation.AutomationCommand.class,
            KeyCommands.Keygen.class,
            KeyCommands.PublicKey.class
        })
public final class ControlTool implements Runnable {
    @Spec CommandSpec spec;

    final Map<String, String> env;

    ControlTool(Map<String, String> env) {
        this.env = env;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(),
                "a command is required: send, tail, status, automation, keygen or public-key");
    }

    public static void main(String[] args) {
        Cli.main(new ControlTool(System.getenv()), args);
    }

    /** Runs one command; returns the exit status (0 ok, 2 usage, 1 failure). */
    public static int run(
            String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        PrintWriter o = new PrintWriter(out, true);
        PrintWriter e = new PrintWriter(err, true);
        int status = Cli.of(new ControlTool(env), o, e).execute(args);
        o.flush();
        e.flush();
        return status;
    }

    /** The topic and the Kafka client of every command. */
    static class Common {
        @Mixin KafkaClientOptions kafka;

        @Option(
                names = "--topic",
                defaultValue = "control",
                description = "The control topic (default: ${DEFAULT-VALUE}).")
        String topic;
    }

    @CommandLine.Command(
            name = "send",
            mixinStandardHelpOptions = true,
            versionProvider = io.canaryflow.modelloader.tools.Version.class,
            description = "Send a signed command. The key: $CANARYFLOW_CONTROL_KEY, or --key-file.")
    static final class Send extends Common implements Callable<Integer> {
        @ParentCommand ControlTool parent;
        @Spec CommandSpec spec;

        @Option(names = "--experiment", required = true, description = "The experiment.")
        String experiment;

        @Option(
                names = "--action",
                required = true,
                description = "pause, resume, abort, promote, start or set_plan.")
        String action;

        @Option(
                names = "--plan",
                paramLabel = "FILE.json",
                description = "The plan of a start or set_plan (see configs/rollout-plan.json).")
        Path plan;

        @Option(names = "--issued-by", description = "Who sends it (default: the user).")
        String issuedBy = System.getProperty("user.name");

        @Option(names = "--key-file", paramLabel = "FILE", description = "The signing key.")
        Path keyFile;

        @Override
        public Integer call() throws Exception {
            Command.Action a = Command.Action.parse(action);
            byte[] key =
                    keyFile != null
                            ? read(keyFile, "--key-file", "the signing key")
                            : parent.env
                                    .getOrDefault("CANARYFLOW_CONTROL_KEY", "")
                                    .getBytes(StandardCharsets.UTF_8);
            if (key.length == 0) {
                throw new IllegalArgumentException(
                        "no signing key: set CANARYFLOW_CONTROL_KEY or pass --key-file");
            }
            String canonical = null;
            if (plan != null) {
                canonical =
                        ControlCodec.canonical(
                                ControlCodec.tree(read(plan, "--plan", "the rollout plan")));
            } else if (a == Command.Action.START || a == Command.Action.SET_PLAN) {
                throw new IllegalArgumentException(a.wireName() + " needs --plan FILE.json");
            }
            Command command =
                    new CommandSigner(key)
                            .sign(
                                    new Command(
                                            "c-" + UUID.randomUUID(),
                                            experiment,
                                            a,
                                            canonical,
                                            issuedBy,
                                            System.currentTimeMillis(),
                                            null));
            long deadline = System.nanoTime() + kafka.timeout().toNanos();
            kafka.requireTopic(topic);
            Properties p = kafka.producerProperties();
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            KafkaProducer<byte[], byte[]> producer =
                    new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
            try {
                // the whole send within --timeout: a broker that answers metadata but never
                // acknowledges the record fails it too
                producer.send(
                                new ProducerRecord<>(
                                        topic,
                                        experiment.getBytes(StandardCharsets.UTF_8),
                                        ControlCodec.write(command)))
                        .get(
                                Math.max(0, deadline - System.nanoTime()),
                                java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new IllegalStateException(
                        "Kafka at "
                                + kafka.bootstrapServers()
                                + " did not acknowledge the command within "
                                + kafka.timeout().toSeconds()
                                + " s; it may or may not have been written: check with"
                                + " 'bin/control tail --from-beginning'");
            } finally {
                producer.close(java.time.Duration.ZERO);
            }
            spec.commandLine()
                    .getOut()
                    .println(
                            "sent " + command.commandId() + ": " + a.wireName() + " " + experiment);
            return 0;
        }
    }

    @CommandLine.Command(
            name = "tail",
            mixinStandardHelpOptions = true,
            versionProvider = io.canaryflow.modelloader.tools.Version.class,
            description = "Print decisions and commands as the job commits them.")
    static final class Tail extends Common implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(names = "--json", description = "Print each record's JSON as it is.")
        boolean json;

        @Option(names = "--from-beginning", description = "Start at the topic's beginning.")
        boolean fromBeginning;

        @Option(
                names = "--experiment",
                description = "Only this experiment's decisions and commands.")
        String experiment;

        @Option(
                names = "--max-seconds",
                paramLabel = "N",
                description = "Stop after N seconds (default: run until Ctrl-C).")
        Long maxSeconds;

        @Mixin DecisionKeyOptions keys;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            DecisionKeyOptions.Gate gate = keys.gate(spec.commandLine().getErr());
            long until =
                    maxSeconds != null
                            ? System.currentTimeMillis() + 1_000 * maxSeconds
                            : Long.MAX_VALUE;
            if (maxSeconds != null) {
                kafka.atMost(maxSeconds);
            }
            kafka.requireTopic(topic);
            try (KafkaConsumer<byte[], byte[]> c = consumer(kafka)) {
                List<TopicPartition> parts = assign(c, kafka, topic);
                if (fromBeginning) {
                    c.seekToBeginning(parts);
                } else {
                    c.seekToEnd(parts);
                }
                while (System.currentTimeMillis() < until) {
                    for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                        JsonNode n;
                        try {
                            n = ControlCodec.tree(r.value());
                        } catch (ControlCodec.MalformedException e) {
                            continue;
                        }
                        if (experiment != null
                                && !experiment.equals(n.path("experiment").asText())) {
                            continue;
                        }
                        if (!gate.admits(r, n)) {
                            continue;
                        }
                        out.println(
                                json ? new String(r.value(), StandardCharsets.UTF_8) : describe(n));
                        out.flush();
                    }
                }
            }
            gate.finish();
            return 0;
        }
    }

    @CommandLine.Command(
            name = "status",
            mixinStandardHelpOptions = true,
            versionProvider = io.canaryflow.modelloader.tools.Version.class,
            description = "Each experiment's last decision and the plan routing follows.")
    static final class Status extends Common implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Mixin DecisionKeyOptions keys;

        @Override
        public Integer call() throws Exception {
            return status(
                    kafka,
                    topic,
                    keys.gate(spec.commandLine().getErr()),
                    spec.commandLine().getOut());
        }
    }

    private static KafkaConsumer<byte[], byte[]> consumer(KafkaClientOptions kafka)
            throws java.io.IOException {
        Properties p = kafka.properties();
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** A file a command reads, or an error naming the option and what the file was for. */
    static byte[] read(java.nio.file.Path file, String option, String what)
            throws java.io.IOException {
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException(
                    option + ": cannot read '" + file + "' (" + what + ")");
        }
        return Files.readAllBytes(file);
    }

    private static List<TopicPartition> assign(
            KafkaConsumer<byte[], byte[]> c, KafkaClientOptions kafka, String topic) {
        List<TopicPartition> parts = new ArrayList<>();
        c.partitionsFor(topic, kafka.timeout())
                .forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("topic '" + topic + "' does not exist");
        }
        c.assign(parts);
        return parts;
    }

    /** One readable paragraph for a decision or a command. */
    public static String describe(JsonNode n) {
        if (!"decision".equals(n.path("type").asText())) {
            return String.format(
                    "command  %s %s %s by %s",
                    n.path("command_id").asText(),
                    n.path("action").asText(),
                    n.path("experiment").asText(),
                    n.path("issued_by").asText("?"));
        }
        StringBuilder s = new StringBuilder();
        s.append(
                String.format(
                        "%s %-10s %-9s %s%s%s%s %5.1f%% -> %5.1f%%  window %s..%s  (%s)",
                        Instant.ofEpochMilli(n.path("decided_at").asLong()),
                        n.path("experiment").asText(),
                        n.path("action").asText(),
                        n.path("dry_run").asBoolean() ? "(dry run) " : "",
                        n.path("timed_out").asBoolean() ? "(timed out) " : "",
                        n.path("awaiting_person").asBoolean() ? "(waits for a person) " : "",
                        n.path("arms").path("candidate").path("version").asText(),
                        n.path("step").path("from").asDouble(),
                        n.path("step").path("to").asDouble(),
                        Instant.ofEpochMilli(n.path("window").path("start").asLong()),
                        Instant.ofEpochMilli(n.path("window").path("end").asLong()),
                        n.path("decision_id").asText()));
        for (JsonNode g : n.path("guardrails")) {
            s.append(
                    String.format(
                            "%n    %-20s %-12s control %.4f (n=%d) candidate %.4f (n=%d) delta %+.4f interval [%s, %s] threshold +%.4f",
                            g.path("metric").asText(),
                            g.path("result").asText(),
                            g.path("baseline").asDouble(Double.NaN),
                            g.path("n_control").asLong(),
                            g.path("candidate").asDouble(Double.NaN),
                            g.path("n_candidate").asLong(),
                            g.path("delta").asDouble(Double.NaN),
                            bound(g.path("interval").path(0)),
                            bound(g.path("interval").path(1)),
                            g.path("threshold").asDouble()));
        }
        for (JsonNode r : n.path("reasons")) {
            s.append("\n    - ").append(r.asText());
        }
        return s.toString();
    }

    private static String bound(JsonNode v) {
        return v.isNumber() ? String.format("%+.4f", v.asDouble()) : "-";
    }

    private static int status(
            KafkaClientOptions kafka, String topic, DecisionKeyOptions.Gate gate, PrintWriter out)
            throws Exception {
        Map<String, JsonNode> last = new LinkedHashMap<>();
        kafka.requireTopic(topic);
        try (KafkaConsumer<byte[], byte[]> c = consumer(kafka)) {
            List<TopicPartition> parts = assign(c, kafka, topic);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    try {
                        JsonNode n = ControlCodec.tree(r.value());
                        if (!"decision".equals(n.path("type").asText())) {
                            continue;
                        }
                        if (gate.admits(r, n)) {
                            last.put(n.path("experiment").asText(), n);
                        }
                    } catch (ControlCodec.MalformedException e) {
                        // not ours to judge here; the job dead-letters it
                    }
                }
            }
        }
        gate.finish();
        if (last.isEmpty()) {
            out.println("no " + (gate.verifies() ? "verified " : "") + "decisions on " + topic);
        }
        for (JsonNode n : last.values()) {
            JsonNode plan = n.path("plan");
            out.println(
                    String.format(
                            "%-12s last %-9s at %s: baseline %s, candidate %s at %.1f%%, plan %s%s%s",
                            n.path("experiment").asText(),
                            n.path("action").asText(),
                            Instant.ofEpochMilli(n.path("decided_at").asLong()),
                            plan.path("baseline").asText(),
                            plan.path("candidate").asText(),
                            plan.path("canary_percent").asDouble(),
                            n.path("plan_id").asText(),
                            n.path("dry_run").asBoolean() ? " (dry run)" : "",
                            n.path("awaiting_person").asBoolean()
                                    ? "; INCONCLUSIVE, waits for a person: send resume, promote or abort"
                                    : ""));
        }
        return 0;
    }
}
