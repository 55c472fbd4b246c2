package io.canaryflow.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.operators.control.Command;
import io.canaryflow.operators.control.CommandSigner;
import io.canaryflow.operators.control.ControlCodec;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The control topic from the command line (same jar as the job):
 *
 * <pre>
 * control send   --bootstrap-servers B [--topic control] --experiment E --action pause|resume|abort|promote|start|set_plan
 *                [--plan plan.json] [--issued-by NAME]      key: $CANARYFLOW_CONTROL_KEY or --key-file F
 * control tail   --bootstrap-servers B [--topic control] [--json] [--from-beginning] [--max-seconds N]
 * control status --bootstrap-servers B [--topic control]
 * </pre>
 *
 * Decisions are read with {@code isolation.level=read_committed}: only what the job committed.
 */
public final class ControlTool {
    static final String USAGE =
            String.join(
                    "\n",
                    "usage: control send   --bootstrap-servers HOST:PORT [--topic control] --experiment NAME",
                    "                      --action pause|resume|abort|promote|start|set_plan [--plan FILE.json]",
                    "                      [--issued-by NAME] [--key-file FILE]   (else $CANARYFLOW_CONTROL_KEY)",
                    "       control tail   --bootstrap-servers HOST:PORT [--topic control] [--json] [--from-beginning] [--max-seconds N]",
                    "       control status --bootstrap-servers HOST:PORT [--topic control]",
                    "       control automation --bootstrap-servers HOST:PORT --repository PATH [--topic control] [--group-id G]",
                    "                      (bin/control only: the example automation, see AliasUpdater)");

    private ControlTool() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.getenv()));
    }

    /** Runs one command; returns the exit status (0 ok, 2 usage, 1 failure). */
    public static int run(
            String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        if (args.length == 0) {
            err.println(USAGE);
            return 2;
        }
        Map<String, String> o = new HashMap<>();
        List<String> flags = List.of("json", "from-beginning");
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                err.println("unexpected argument '" + args[i] + "'\n" + USAGE);
                return 2;
            }
            String name = args[i].substring(2);
            if (flags.contains(name)) {
                o.put(name, "true");
            } else if (i + 1 < args.length) {
                o.put(name, args[++i]);
            } else {
                err.println("option --" + name + " needs a value\n" + USAGE);
                return 2;
            }
        }
        if (!o.containsKey("bootstrap-servers")) {
            err.println("--bootstrap-servers is required\n" + USAGE);
            return 2;
        }
        String topic = o.getOrDefault("topic", "control");
        try {
            return switch (args[0]) {
                case "send" -> send(o, topic, out, err, env);
                case "tail" -> tail(o, topic, out);
                case "status" -> status(o, topic, out);
                default -> {
                    err.println("unknown command '" + args[0] + "'\n" + USAGE);
                    yield 2;
                }
            };
        } catch (IllegalArgumentException e) {
            err.println(e.getMessage());
            return 2;
        } catch (Exception e) {
            err.println("failed: " + e.getMessage());
            return 1;
        }
    }

    private static int send(
            Map<String, String> o,
            String topic,
            PrintStream out,
            PrintStream err,
            Map<String, String> env)
            throws Exception {
        String experiment = required(o, "experiment");
        Command.Action action = Command.Action.parse(required(o, "action"));
        byte[] key =
                o.containsKey("key-file")
                        ? Files.readAllBytes(Path.of(o.get("key-file")))
                        : env.getOrDefault("CANARYFLOW_CONTROL_KEY", "")
                                .getBytes(StandardCharsets.UTF_8);
        if (key.length == 0) {
            throw new IllegalArgumentException(
                    "no signing key: set CANARYFLOW_CONTROL_KEY or pass --key-file");
        }
        String plan = null;
        if (o.containsKey("plan")) {
            plan =
                    ControlCodec.canonical(
                            ControlCodec.tree(Files.readAllBytes(Path.of(o.get("plan")))));
        } else if (action == Command.Action.START || action == Command.Action.SET_PLAN) {
            throw new IllegalArgumentException(action.wireName() + " needs --plan FILE.json");
        }
        Command command =
                new CommandSigner(key)
                        .sign(
                                new Command(
                                        "c-" + UUID.randomUUID(),
                                        experiment,
                                        action,
                                        plan,
                                        o.getOrDefault(
                                                "issued-by", System.getProperty("user.name")),
                                        System.currentTimeMillis(),
                                        null));
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, o.get("bootstrap-servers"));
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(
                            new ProducerRecord<>(
                                    topic,
                                    experiment.getBytes(StandardCharsets.UTF_8),
                                    ControlCodec.write(command)))
                    .get();
        }
        out.println("sent " + command.commandId() + ": " + action.wireName() + " " + experiment);
        return 0;
    }

    private static KafkaConsumer<byte[], byte[]> consumer(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> assign(KafkaConsumer<byte[], byte[]> c, String topic) {
        List<TopicPartition> parts = new ArrayList<>();
        c.partitionsFor(topic, Duration.ofSeconds(30))
                .forEach(i -> parts.add(new TopicPartition(topic, i.partition())));
        c.assign(parts);
        return parts;
    }

    private static int tail(Map<String, String> o, String topic, PrintStream out) throws Exception {
        boolean json = o.containsKey("json");
        long until =
                o.containsKey("max-seconds")
                        ? System.currentTimeMillis() + 1_000 * Long.parseLong(o.get("max-seconds"))
                        : Long.MAX_VALUE;
        try (KafkaConsumer<byte[], byte[]> c = consumer(o.get("bootstrap-servers"))) {
            List<TopicPartition> parts = assign(c, topic);
            if (o.containsKey("from-beginning")) {
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
                    if (json) {
                        out.println(new String(r.value(), StandardCharsets.UTF_8));
                    } else {
                        out.println(describe(n));
                    }
                    out.flush();
                }
            }
        }
        return 0;
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
                        "%s %-10s %-9s %s%s %5.1f%% -> %5.1f%%  window %s..%s  (%s)",
                        Instant.ofEpochMilli(n.path("decided_at").asLong()),
                        n.path("experiment").asText(),
                        n.path("action").asText(),
                        n.path("dry_run").asBoolean() ? "(dry run) " : "",
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

    private static int status(Map<String, String> o, String topic, PrintStream out)
            throws Exception {
        Map<String, JsonNode> last = new LinkedHashMap<>();
        try (KafkaConsumer<byte[], byte[]> c = consumer(o.get("bootstrap-servers"))) {
            List<TopicPartition> parts = assign(c, topic);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(p -> c.position(p) < end.get(p))) {
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(500))) {
                    try {
                        JsonNode n = ControlCodec.tree(r.value());
                        if ("decision".equals(n.path("type").asText())) {
                            last.put(n.path("experiment").asText(), n);
                        }
                    } catch (ControlCodec.MalformedException e) {
                        // not ours to judge here; the job dead-letters it
                    }
                }
            }
        }
        if (last.isEmpty()) {
            out.println("no decisions on " + topic);
        }
        for (JsonNode n : last.values()) {
            JsonNode plan = n.path("plan");
            out.println(
                    String.format(
                            "%-12s last %-9s at %s: baseline %s, candidate %s at %.1f%%, plan %s%s",
                            n.path("experiment").asText(),
                            n.path("action").asText(),
                            Instant.ofEpochMilli(n.path("decided_at").asLong()),
                            plan.path("baseline").asText(),
                            plan.path("candidate").asText(),
                            plan.path("canary_percent").asDouble(),
                            n.path("plan_id").asText(),
                            n.path("dry_run").asBoolean() ? " (dry run)" : ""));
        }
        return 0;
    }

    private static String required(Map<String, String> o, String name) {
        String v = o.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException("--" + name + " is required\n" + USAGE);
        }
        return v;
    }
}
