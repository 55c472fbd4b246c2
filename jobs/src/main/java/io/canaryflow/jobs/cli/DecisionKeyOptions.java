package io.canaryflow.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.jobs.kafka.SourceRecordDeserializer;
import io.canaryflow.operators.control.ControlCodec;
import io.canaryflow.operators.control.DecisionKey;
import io.canaryflow.operators.control.DecisionVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import picocli.CommandLine.Option;

/**
 * The public keys a tool checks decisions with ({@code --public-key FILE}, repeatable: the current
 * and the previous key while keys rotate), and the check itself: a decision record must be signed
 * by one of them ({@link DecisionVerifier}). Commands are not decisions and pass unchecked here
 * (the job checks their HMAC).
 */
public final class DecisionKeyOptions {
    @Option(
            names = "--public-key",
            paramLabel = "FILE",
            description =
                    "Public key (PEM) of the job's decisions; repeat for several (key rotation). A decision not signed by one of them is refused. bin/control public-key prints the job's.")
    List<Path> files = new ArrayList<>();

    /** The verifier of the keys given, or null when none is given. */
    public DecisionVerifier verifier() {
        if (files.isEmpty()) {
            return null;
        }
        List<DecisionKey> keys = new ArrayList<>();
        for (Path f : files) {
            if (!Files.isReadable(f)) {
                throw new IllegalArgumentException(
                        "--public-key: cannot read '" + f + "' (a public key of decisions)");
            }
            try {
                keys.add(DecisionKey.read(f));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--public-key: " + e.getMessage(), e);
            }
        }
        return new DecisionVerifier(keys);
    }

    /** The check of the decisions a tool reads, reporting refusals on {@code err}. */
    public Gate gate(java.io.PrintWriter err) {
        return new Gate(verifier(), err);
    }

    /**
     * Lets a tool show a decision only if it is signed by a trusted key and not a replay; prints
     * each refusal with its reason. Without a key every record passes, and it says so once.
     */
    public static final class Gate {
        private final DecisionVerifier verifier;
        private final DecisionVerifier.Replays replays = new DecisionVerifier.Replays(100_000);
        private final java.io.PrintWriter err;
        private long refused;

        Gate(DecisionVerifier verifier, java.io.PrintWriter err) {
            this.verifier = verifier;
            this.err = err;
            if (verifier == null) {
                err.println(
                        "note: decisions are shown unverified; --public-key FILE shows only those"
                                + " the job signed");
                err.flush();
            }
        }

        /** Whether signatures are checked (a key was given). */
        public boolean verifies() {
            return verifier != null;
        }

        /**
         * Whether {@code n}, the control JSON of {@code r}, may be shown: a command always; a
         * decision when its signature verifies and it is later than the newest of its experiment
         * shown (then it is recorded as shown).
         */
        public boolean admits(ConsumerRecord<byte[], byte[]> r, JsonNode n) {
            if (verifier == null || !"decision".equals(n.path("type").asText())) {
                return true;
            }
            DecisionVerifier.Outcome o = verify(verifier, r);
            String experiment = n.path("experiment").asText();
            String id = n.path("decision_id").asText();
            long decidedAt = n.path("decided_at").asLong();
            if (o.accepted()) {
                o = replays.check(experiment, id, decidedAt);
            }
            if (!o.accepted()) {
                refused++;
                err.println(refusal(r, n, o));
                err.flush();
                return false;
            }
            replays.accept(experiment, id, decidedAt);
            return true;
        }

        /** Says how many decisions were refused, if any. */
        public void finish() {
            if (refused > 0) {
                err.println("refused " + refused + " decisions (see above)");
                err.flush();
            }
        }
    }

    /** The record as a control decision, or null when it is a command or not control JSON. */
    public static JsonNode decision(ConsumerRecord<byte[], byte[]> r) {
        try {
            JsonNode n = ControlCodec.tree(r.value());
            return "decision".equals(n.path("type").asText()) ? n : null;
        } catch (ControlCodec.MalformedException e) {
            return null;
        }
    }

    /** Whether the record's signature headers verify with {@code verifier}. */
    public static DecisionVerifier.Outcome verify(
            DecisionVerifier verifier, ConsumerRecord<byte[], byte[]> r) {
        return verifier.check(
                r.value(),
                SourceRecordDeserializer.lastHeader(r, DecisionVerifier.KEY_ID_HEADER),
                SourceRecordDeserializer.lastHeader(r, DecisionVerifier.SIGNATURE_HEADER));
    }

    /** One line naming a refused decision, where it was, and why. */
    public static String refusal(
            ConsumerRecord<byte[], byte[]> r, JsonNode n, DecisionVerifier.Outcome o) {
        return String.format(
                "refused decision %s (experiment %s, %s %s at partition %d offset %d): %s: %s",
                n.path("decision_id").asText("?"),
                n.path("experiment").asText("?"),
                n.path("action").asText("?"),
                n.path("plan").path("baseline").asText(""),
                r.partition(),
                r.offset(),
                o.rejection(),
                o.detail());
    }
}
