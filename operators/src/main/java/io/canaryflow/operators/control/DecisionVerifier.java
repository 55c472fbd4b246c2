package io.canaryflow.operators.control;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Checks a decision read from the control topic before anything acts on it: the record must carry a
 * key id and a signature in its headers ({@value #KEY_ID_HEADER}, {@value #SIGNATURE_HEADER},
 * base64), the key must be one of the trusted public keys, and the signature must verify over
 * {@code canaryflow-decision-v1} LF and the record's value bytes. A decision that passes may still
 * be a replay of an older genuine one ({@link Replays}).
 */
public final class DecisionVerifier implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String KEY_ID_HEADER = "canaryflow-key-id";
    public static final String SIGNATURE_HEADER = "canaryflow-signature";

    /** Why a decision is refused. */
    public enum Rejection {
        /** No signature or no key id header. */
        UNSIGNED,
        /** Signed by a key that is not trusted: a foreign or rotated-out key. */
        UNTRUSTED_KEY,
        /** The signature does not verify: forged, or the value was changed after signing. */
        BAD_SIGNATURE,
        /** A genuine decision seen before, or older than the newest one acted on. */
        REPLAYED
    }

    /** The outcome: {@code rejection} null when the decision may be acted on. */
    public record Outcome(Rejection rejection, String detail) {
        public static final Outcome ACCEPTED = new Outcome(null, null);

        public boolean accepted() {
            return rejection == null;
        }
    }

    private final Map<String, DecisionKey> trusted = new LinkedHashMap<>();

    public DecisionVerifier(Collection<DecisionKey> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no public key to verify decisions with");
        }
        keys.forEach(k -> trusted.put(k.id(), k));
    }

    /** The ids of the trusted keys, in the order given. */
    public List<String> keyIds() {
        return new ArrayList<>(trusted.keySet());
    }

    /**
     * @param value the record's value as read
     * @param keyId the {@value #KEY_ID_HEADER} header's bytes, or null
     * @param signature the {@value #SIGNATURE_HEADER} header's bytes, or null
     */
    public Outcome check(byte[] value, byte[] keyId, byte[] signature) {
        if (keyId == null || signature == null) {
            return new Outcome(
                    Rejection.UNSIGNED,
                    "no "
                            + (keyId == null ? KEY_ID_HEADER : SIGNATURE_HEADER)
                            + " header: the decision is not signed");
        }
        String id = new String(keyId, StandardCharsets.US_ASCII).trim();
        DecisionKey key = trusted.get(id);
        if (key == null) {
            return new Outcome(
                    Rejection.UNTRUSTED_KEY,
                    "signed by key "
                            + printable(id)
                            + ", which is not trusted (trusted: "
                            + String.join(", ", trusted.keySet())
                            + "); a rotated-out or foreign key");
        }
        byte[] sig;
        try {
            sig =
                    Base64.getDecoder()
                            .decode(new String(signature, StandardCharsets.US_ASCII).trim());
        } catch (IllegalArgumentException e) {
            return new Outcome(Rejection.BAD_SIGNATURE, "the signature header is not base64");
        }
        if (!key.verifies(value, sig)) {
            return new Outcome(
                    Rejection.BAD_SIGNATURE,
                    "the signature does not verify with key "
                            + id
                            + ": forged, or changed after signing");
        }
        return Outcome.ACCEPTED;
    }

    private static String printable(String s) {
        String t = s.length() > 40 ? s.substring(0, 40) + "..." : s;
        return "'" + t.replaceAll("[^\\x20-\\x7e]", "?") + "'";
    }

    /**
     * Refuses replays of genuine decisions: a decision id acted on before (the last {@code
     * remembered}), or a decision whose {@code decided_at} is not later than the newest acted on
     * under the same key (the experiment, or for a model's aliases the model). The judge makes an
     * experiment's {@code decided_at} strictly increasing, so only a copy of an older decision
     * fails this.
     */
    public static final class Replays {
        private final int remembered;
        private final Map<String, Long> newest = new HashMap<>();
        private final LinkedHashSet<String> ids = new LinkedHashSet<>();

        public Replays(int remembered) {
            this.remembered = remembered;
        }

        /** Takes up what was acted on before (as {@link #newest} and {@link #ids} gave it). */
        public Replays restore(Map<String, Long> newest, List<String> ids) {
            this.newest.putAll(newest);
            this.ids.addAll(ids);
            return this;
        }

        /** Whether a decision may be acted on; does not record it. */
        public Outcome check(String key, String decisionId, long decidedAt) {
            if (ids.contains(decisionId)) {
                return new Outcome(
                        Rejection.REPLAYED,
                        "decision "
                                + decisionId
                                + " was acted on before (a replay, or a redelivery after a"
                                + " crash)");
            }
            return notAfter(newest.get(key), decisionId, decidedAt);
        }

        /** Records a decision acted on. */
        public void accept(String key, String decisionId, long decidedAt) {
            newest.merge(key, decidedAt, Math::max);
            ids.add(decisionId);
            while (ids.size() > remembered) {
                ids.remove(ids.iterator().next());
            }
        }

        /** The newest {@code decided_at} acted on, per key (to persist). */
        public Map<String, Long> newest() {
            return Map.copyOf(newest);
        }

        /** The decision ids remembered, oldest first (to persist). */
        public List<String> ids() {
            return new ArrayList<>(ids);
        }

        /**
         * A decision not decided after {@code newest} is a replay.
         *
         * @param newest the newest decision time acted on, or null
         */
        public static Outcome notAfter(Long newest, String decisionId, long decidedAt) {
            if (newest != null && decidedAt <= newest) {
                return new Outcome(
                        Rejection.REPLAYED,
                        String.format(
                                "decision %s was decided at %s, not after the newest decision"
                                        + " acted on (%s, %d ms later): a replay",
                                decisionId,
                                java.time.Instant.ofEpochMilli(decidedAt),
                                java.time.Instant.ofEpochMilli(newest),
                                newest - decidedAt));
            }
            return Outcome.ACCEPTED;
        }
    }
}
