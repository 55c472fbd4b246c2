package io.canaryflow.jobs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.operators.control.ControlCodec;
import io.canaryflow.operators.control.DecisionKey;
import io.canaryflow.operators.control.DecisionVerifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
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
                header(r, DecisionVerifier.KEY_ID_HEADER),
                header(r, DecisionVerifier.SIGNATURE_HEADER));
    }

    private static byte[] header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : h.value();
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
