package io.canaryflow.operators.control;

import java.util.function.Predicate;

/**
 * Decides whether a command may be applied: it must be signed, verify under the key, be no older
 * than {@code maxAgeMillis} (nor further than {@code maxAgeMillis} in the future: a skewed or
 * forged clock), and carry a {@code command_id} not seen before (a replay).
 */
public final class CommandCheck {
    /** Why a command is rejected; null reason means accepted. */
    public enum Rejection {
        UNSIGNED,
        BAD_SIGNATURE,
        STALE,
        REPLAYED
    }

    /** The outcome: {@code rejection} null when the command may be applied. */
    public record Outcome(Rejection rejection, String detail) {
        public boolean accepted() {
            return rejection == null;
        }
    }

    private final CommandSigner signer;
    private final long maxAgeMillis;

    public CommandCheck(CommandSigner signer, long maxAgeMillis) {
        if (maxAgeMillis < 1) {
            throw new IllegalArgumentException("max age must be positive, got " + maxAgeMillis);
        }
        this.signer = signer;
        this.maxAgeMillis = maxAgeMillis;
    }

    /**
     * @param now the time to judge staleness against, epoch milliseconds
     * @param seen whether a command id was applied or rejected before
     */
    public Outcome check(Command c, long now, Predicate<String> seen) {
        if (c.signature() == null || c.signature().isBlank()) {
            return new Outcome(
                    Rejection.UNSIGNED, "command " + c.commandId() + " has no signature");
        }
        if (!signer.verifies(c)) {
            return new Outcome(
                    Rejection.BAD_SIGNATURE,
                    "command "
                            + c.commandId()
                            + ": the signature does not verify with the control key");
        }
        long age = now - c.issuedAt();
        if (age > maxAgeMillis || -age > maxAgeMillis) {
            return new Outcome(
                    Rejection.STALE,
                    String.format(
                            "command %s was issued %d ms %s; at most %d ms are accepted",
                            c.commandId(),
                            Math.abs(age),
                            age >= 0 ? "ago" : "in the future",
                            maxAgeMillis));
        }
        if (seen.test(c.commandId())) {
            return new Outcome(
                    Rejection.REPLAYED, "command id " + c.commandId() + " was seen before");
        }
        return new Outcome(null, null);
    }
}
