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
        String model = plan.path("model").asText();
        Path file = repository.resolve(model).resolve("aliases.json").normalize();
        if (model.isEmpty()
                || !file.startsWith(repository.normalize())
                || !file.getParent().getParent().equals(repository.normalize())) {
            return false; // not a model of this repository ("../x", "a/b"): never written
        }
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

    public static void main(String[] args) {
        io.canaryflow.jobs.cli.Cli.main(new AutomationCommand(), args);
    }
}
