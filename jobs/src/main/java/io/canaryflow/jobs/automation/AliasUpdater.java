package io.canaryflow.jobs.automation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.canaryflow.operators.control.ControlCodec;
import io.canaryflow.operators.control.DecisionVerifier;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;

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
 * is applied once. It also keeps, per experiment, when the newest decision it applied was decided:
 * a decision of that experiment not decided after it (a copy of an older genuine one, signature and
 * all) is refused. Decisions of two experiments of one model are applied in the order read.
 * Signatures are checked before ({@link AutomationCommand}). The file is replaced atomically, and
 * read, changed and replaced under a lock ({@code aliases.json.lock} beside it), so that two
 * automations on one repository never lose each other's updates.
 *
 * <pre>automation --bootstrap-servers HOST:PORT --repository PATH [--topic control] [--group-id G]
 * </pre>
 */
public final class AliasUpdater {
    private static final ObjectMapper JSON =
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final int REMEMBERED = 1_000;

    /** A lock per alias file, for the writers of this process (a file lock is per process). */
    private static final ConcurrentHashMap<Path, Object> IN_PROCESS = new ConcurrentHashMap<>();

    private final Path repository;

    public AliasUpdater(Path repository) {
        this.repository = repository;
    }

    /** What {@link #apply} did: {@code refusal} is set when it refused a replayed decision. */
    public record Outcome(boolean changed, DecisionVerifier.Outcome refusal) {
        static final Outcome UNCHANGED = new Outcome(false, null);
    }

    /** Applies one control record; says whether the alias file changed, or why it refused. */
    public Outcome apply(byte[] record) throws IOException {
        JsonNode n;
        try {
            n = ControlCodec.tree(record);
        } catch (ControlCodec.MalformedException e) {
            return Outcome.UNCHANGED;
        }
        if (!"decision".equals(n.path("type").asText()) || n.path("dry_run").asBoolean()) {
            return Outcome.UNCHANGED;
        }
        String action = n.path("action").asText();
        if (!action.equals("PROMOTE") && !action.equals("ROLLBACK")) {
            return Outcome.UNCHANGED;
        }
        String id = n.path("decision_id").asText();
        String experiment = n.path("experiment").asText();
        long decidedAt = n.path("decided_at").asLong();
        JsonNode plan = n.path("plan");
        String model = plan.path("model").asText();
        Path file = repository.resolve(model).resolve("aliases.json").normalize();
        if (model.isEmpty()
                || !file.startsWith(repository.normalize())
                || !file.getParent().getParent().equals(repository.normalize())) {
            return Outcome.UNCHANGED; // not a model of this repository ("../x", "a/b")
        }
        // One writer at a time, in this process and across processes (two automations, or one
        // and its replacement during a consumer-group rebalance): the file is read, changed and
        // replaced under a lock, so neither loses the other's update.
        Files.createDirectories(file.getParent());
        synchronized (
                IN_PROCESS.computeIfAbsent(file.toAbsolutePath().normalize(), f -> new Object())) {
            try (FileChannel channel =
                            FileChannel.open(
                                    file.resolveSibling("aliases.json.lock"),
                                    StandardOpenOption.CREATE,
                                    StandardOpenOption.WRITE);
                    FileLock held = channel.lock()) {
                return apply(n, file, action, id, experiment, decidedAt, plan);
            }
        }
    }

    private Outcome apply(
            JsonNode n,
            Path file,
            String action,
            String id,
            String experiment,
            long decidedAt,
            JsonNode plan)
            throws IOException {
        ObjectNode aliases =
                Files.exists(file)
                        ? (ObjectNode) JSON.readTree(file.toFile())
                        : JSON.createObjectNode();
        ArrayNode applied =
                aliases.has("applied_decisions")
                        ? (ArrayNode) aliases.get("applied_decisions")
                        : aliases.putArray("applied_decisions");
        java.util.List<String> appliedBefore = new java.util.ArrayList<>();
        applied.forEach(done -> appliedBefore.add(done.asText()));
        // per experiment: only one experiment's decisions are ordered by decided_at (one judge
        // task, one clock); decisions of two experiments of the model are applied as read
        ObjectNode newest =
                aliases.get("newest_decided_at") instanceof ObjectNode o
                        ? o
                        : aliases.putObject("newest_decided_at");
        java.util.Map<String, Long> newestBefore = new java.util.HashMap<>();
        newest.fields().forEachRemaining(e -> newestBefore.put(e.getKey(), e.getValue().asLong()));
        DecisionVerifier.Outcome replay =
                new DecisionVerifier.Replays(REMEMBERED)
                        .restore(newestBefore, appliedBefore)
                        .check(experiment, id, decidedAt);
        if (!replay.accepted()) {
            return new Outcome(false, replay);
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
        newest.put(experiment, Math.max(decidedAt, newest.path(experiment).asLong(decidedAt)));
        aliases.put("last_decision", id);
        aliases.put(
                "updated_by", "canaryflow automation, experiment " + n.path("experiment").asText());
        Path tmp = file.resolveSibling("aliases.json.tmp"); // one writer: under the lock
        JSON.writeValue(tmp.toFile(), aliases);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Outcome(true, null);
    }

    public static void main(String[] args) {
        io.canaryflow.jobs.cli.Cli.main(new AutomationCommand(), args);
    }
}
