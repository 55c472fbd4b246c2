package io.canaryflow.jobs.automation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.canaryflow.operators.control.ControlCodec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * An example of the automation on the other side of the control topic, the pattern to copy for a
 * real deployment system: it follows the job's decisions ({@code read_committed}) and keeps the
 * model repository's alias file, {@code <repository>/<model>/aliases.json}, in step — {@code
 * production} names the version in production; a PROMOTE moves it to the promoted version, a
 * ROLLBACK keeps it and records the candidate under {@code rolled_back}. Dry-run decisions and the
 * other actions change nothing.
 *
 * <p>Idempotent on {@code decision_id}: the file lists the decisions it applied, so a decision
 * delivered twice (the consumer commits offsets after applying, so a crash in between redelivers)
 * is applied once. The file is replaced atomically.
 *
 * <pre>automation --bootstrap-servers HOST:PORT --repository PATH [--topic control] [--group-id G]
 * </pre>
 */
public final class AliasUpdater {
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int REMEMBERED = 1_000;

    private final Path repository;

    public AliasUpdater(Path repository) {
        this.repository = repository;
    }

    /** Applies one control record; returns whether the alias file changed. */
    public boolean apply(byte[] record) throws IOException {
        JsonNode n;
        try {
            n = ControlCodec.tree(record);
        } catch (ControlCodec.MalformedException e) {
            return false;
        }
        if (!"decision".equals(n.path("type").asText()) || n.path("dry_run").asBoolean()) {
            return false;
        }
        String action = n.path("action").asText();
        if (!action.equals("PROMOTE") && !action.equals("ROLLBACK")) {
            return false;
        }
        String id = n.path("decision_id").asText();
        JsonNode plan = n.path("plan");
        Path file = repository.resolve(plan.path("model").asText()).resolve("aliases.json");
        ObjectNode aliases =
                Files.exists(file)
                        ? (ObjectNode) JSON.readTree(file.toFile())
                        : JSON.createObjectNode();
        ArrayNode applied =
                aliases.has("applied_decisions")
                        ? (ArrayNode) aliases.get("applied_decisions")
                        : aliases.putArray("applied_decisions");
        for (JsonNode done : applied) {
            if (done.asText().equals(id)) {
                return false;
            }
        }
        if (action.equals("PROMOTE")) {
            aliases.put("production", plan.path("baseline").asText());
        } else {
            if (!aliases.has("production")) {
                aliases.put("production", plan.path("baseline").asText());
            }
            String candidate = n.path("arms").path("candidate").path("version").asText();
            ArrayNode rolledBack =
                    aliases.has("rolled_back")
                            ? (ArrayNode) aliases.get("rolled_back")
                            : aliases.putArray("rolled_back");
            rolledBack.add(candidate);
        }
        applied.add(id);
        while (applied.size() > REMEMBERED) {
            applied.remove(0);
        }
        aliases.put("last_decision", id);
        aliases.put(
                "updated_by", "canaryflow automation, experiment " + n.path("experiment").asText());
        Files.createDirectories(file.getParent());
        Path tmp = file.resolveSibling("aliases.json.tmp");
        JSON.writeValue(tmp.toFile(), aliases);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }

    public static void main(String[] args) throws Exception {
        java.util.Map<String, String> o = new java.util.HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            o.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        if (!o.containsKey("bootstrap-servers") || !o.containsKey("repository")) {
            System.err.println(
                    "usage: automation --bootstrap-servers HOST:PORT --repository PATH [--topic control] [--group-id G]");
            System.exit(2);
        }
        AliasUpdater updater = new AliasUpdater(Path.of(o.get("repository")));
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, o.get("bootstrap-servers"));
        p.put(ConsumerConfig.GROUP_ID_CONFIG, o.getOrDefault("group-id", "canaryflow-automation"));
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(o.getOrDefault("topic", "control")));
            while (true) {
                List<String> changed = new ArrayList<>();
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    if (updater.apply(r.value())) {
                        changed.add(r.offset() + "");
                    }
                }
                consumer.commitSync(); // after applying: at least once, made once by the ids
                if (!changed.isEmpty()) {
                    System.out.println("applied decisions at offsets " + changed);
                }
            }
        }
    }
}
