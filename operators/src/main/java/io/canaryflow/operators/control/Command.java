package io.canaryflow.operators.control;

import java.util.Locale;

/**
 * A signed instruction for one experiment's rollout, read from the control topic:
 *
 * <pre>{"type":"command","command_id":"c-1","experiment":"fraud","action":"PAUSE","plan":{...},
 *  "issued_by":"alice","issued_at":1732345678901,"signature":"hmac-sha256:9f2c..."}</pre>
 *
 * @param plan the plan of a START or SET_PLAN, as canonical JSON (keys sorted), or null
 * @param issuedAt epoch milliseconds
 * @param signature {@code hmac-sha256:<hex>} over {@link CommandSigner#canonical}, or null
 */
public record Command(
        String commandId,
        String experiment,
        Action action,
        String plan,
        String issuedBy,
        long issuedAt,
        String signature) {

    /** What a command asks for. */
    public enum Action {
        START,
        PAUSE,
        RESUME,
        ABORT,
        PROMOTE,
        SET_PLAN;

        public static Action parse(String value) {
            for (Action a : values()) {
                if (a.name().equalsIgnoreCase(value)) {
                    return a;
                }
            }
            throw new IllegalArgumentException(
                    "unknown action '"
                            + value
                            + "', allowed: start, pause, resume, abort, promote, set_plan");
        }

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** The same command with a signature. */
    public Command signed(String signature) {
        return new Command(commandId, experiment, action, plan, issuedBy, issuedAt, signature);
    }
}
