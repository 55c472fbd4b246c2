package io.canaryflow.operators.records;

import io.canaryflow.modelloader.Checksums;
import java.util.Arrays;
import java.util.Base64;
import org.apache.flink.api.common.serialization.SerializationSchema;

/**
 * Writes a {@link DeadLetter} as the {@code dead-letters} topic's JSON: {@code reason, detail,
 * source {topic, partition, offset}, event_id, experiment, original_base64, original_bytes,
 * original_sha256, original_truncated, at}. Absent values are JSON null.
 *
 * <p>Every dead letter is bounded, whatever its input: the original is kept up to {@code
 * maxOriginalBytes} (its first bytes; {@code original_bytes} and {@code original_sha256} are of the
 * whole original, so a cut one can still be matched with its source), and every string is cut to
 * {@value #MAX_STRING_CHARS} characters, marked with how long it was. A dead letter the producer
 * refused would fail the sink and restart the job onto the same input forever.
 */
public final class DeadLetterSchema implements SerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;

    /** The longest detail, event id, experiment or topic name a dead letter carries. */
    public static final int MAX_STRING_CHARS = 1_024;

    private final int maxOriginalBytes;
    private transient JsonWriter writer;

    /**
     * @param maxOriginalBytes how much of the original a dead letter keeps, at most
     */
    public DeadLetterSchema(int maxOriginalBytes) {
        if (maxOriginalBytes < 0) {
            throw new IllegalArgumentException(
                    "maxOriginalBytes must not be negative, got " + maxOriginalBytes);
        }
        this.maxOriginalBytes = maxOriginalBytes;
    }

    @Override
    public byte[] serialize(DeadLetter d) {
        if (writer == null) {
            writer = new JsonWriter();
        }
        byte[] original = d.original();
        boolean cut = original != null && original.length > maxOriginalBytes;
        return writer.write(
                json -> {
                    json.writeStartObject();
                    json.writeStringField("reason", d.reason().name());
                    json.writeStringField("detail", bounded(d.detail()));
                    json.writeObjectFieldStart("source");
                    json.writeStringField("topic", bounded(d.topic()));
                    json.writeNumberField("partition", d.partition());
                    json.writeNumberField("offset", d.offset());
                    json.writeEndObject();
                    json.writeStringField("event_id", bounded(d.eventId()));
                    json.writeStringField("experiment", bounded(d.experiment()));
                    if (original == null) {
                        json.writeNullField("original_base64");
                        json.writeNumberField("original_bytes", 0);
                        json.writeNullField("original_sha256");
                    } else {
                        json.writeStringField(
                                "original_base64",
                                Base64.getEncoder()
                                        .encodeToString(
                                                cut
                                                        ? Arrays.copyOf(original, maxOriginalBytes)
                                                        : original));
                        json.writeNumberField("original_bytes", original.length);
                        json.writeStringField("original_sha256", Checksums.sha256Hex(original));
                    }
                    json.writeBooleanField("original_truncated", cut);
                    json.writeNumberField("at", d.at());
                    json.writeEndObject();
                });
    }

    /**
     * {@code s}, or its first {@value #MAX_STRING_CHARS} characters and how long it was. Null stays
     * null.
     */
    public static String bounded(String s) {
        if (s == null || s.length() <= MAX_STRING_CHARS) {
            return s;
        }
        int end = MAX_STRING_CHARS;
        if (Character.isHighSurrogate(s.charAt(end - 1))) {
            end--; // never split a surrogate pair
        }
        return s.substring(0, end) + "... (" + s.length() + " characters)";
    }
}
