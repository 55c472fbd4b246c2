package io.canaryflow.operators.records;

/**
 * A record that could not be processed, with the reason, a human-readable detail, where it came
 * from and its original bytes.
 *
 * @param eventId the event id if it could be read, else null
 * @param experiment the experiment if it could be read, else null
 * @param original the original record bytes (null for a tombstone)
 * @param at when it was dead-lettered, epoch milliseconds
 */
public record DeadLetter(
        Reason reason,
        String detail,
        String topic,
        int partition,
        long offset,
        String eventId,
        String experiment,
        byte[] original,
        long at) {

    public static DeadLetter of(
            SourceRecord source,
            Reason reason,
            String detail,
            String eventId,
            String experiment,
            long at) {
        return new DeadLetter(
                reason,
                detail,
                source.topic(),
                source.partition(),
                source.offset(),
                eventId,
                experiment,
                source.value(),
                at);
    }
}
