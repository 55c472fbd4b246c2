package io.canaryflow.operators.records;

import java.util.Base64;
import org.apache.flink.api.common.serialization.SerializationSchema;

/**
 * Writes a {@link DeadLetter} as the {@code dead-letters} topic's JSON: {@code reason, detail,
 * source {topic, partition, offset}, event_id, experiment, original_base64, at}. Absent values are
 * JSON null.
 */
public final class DeadLetterSchema implements SerializationSchema<DeadLetter> {
    private static final long serialVersionUID = 1L;
    private transient JsonWriter writer;

    @Override
    public byte[] serialize(DeadLetter d) {
        if (writer == null) {
            writer = new JsonWriter();
        }
        return writer.write(
                json -> {
                    json.writeStartObject();
                    json.writeStringField("reason", d.reason().name());
                    json.writeStringField("detail", d.detail());
                    json.writeObjectFieldStart("source");
                    json.writeStringField("topic", d.topic());
                    json.writeNumberField("partition", d.partition());
                    json.writeNumberField("offset", d.offset());
                    json.writeEndObject();
                    json.writeStringField("event_id", d.eventId());
                    json.writeStringField("experiment", d.experiment());
                    json.writeStringField(
                            "original_base64",
                            d.original() == null
                                    ? null
                                    : Base64.getEncoder().encodeToString(d.original()));
                    json.writeNumberField("at", d.at());
                    json.writeEndObject();
                });
    }
}
