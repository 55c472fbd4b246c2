package io.canaryflow.operators.decode;

import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Label;

/**
 * A source record as the source hands it on, decoded where it was read: the feature event or the
 * label it holds, or the dead letter that says why it holds neither. Exactly one component is
 * non-null. Decoding in the source lets the source take each record's event time from its decoded
 * {@code ts}, per Kafka partition (see {@link EventTime}).
 */
public record Decoded(FeatureEvent event, Label label, DeadLetter deadLetter) {

    public static Decoded of(FeatureEvent event) {
        return new Decoded(event, null, null);
    }

    public static Decoded of(Label label) {
        return new Decoded(null, label, null);
    }

    public static Decoded of(DeadLetter deadLetter) {
        return new Decoded(null, null, deadLetter);
    }

    /** Whether this is a valid event or label, so its {@link #ts()} is event time. */
    public boolean valid() {
        return deadLetter == null;
    }

    /**
     * The event's or label's event time; for a dead letter, {@link Long#MIN_VALUE} (it has none and
     * is not event-time data).
     */
    public long ts() {
        if (event != null) {
            return event.ts();
        }
        return label != null ? label.ts() : Long.MIN_VALUE;
    }
}
