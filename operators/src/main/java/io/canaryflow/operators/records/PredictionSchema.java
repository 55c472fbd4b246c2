package io.canaryflow.operators.records;

import org.apache.flink.api.common.serialization.SerializationSchema;

/**
 * Writes a {@link Prediction} as the {@code predictions} topic's JSON: {@code event_id, unit,
 * experiment, model, version, arm, served, score, outputs, ts, scored_at, latency_us, plan_id,
 * bucket} and {@code fallback_from} when a fallback served.
 */
public final class PredictionSchema implements SerializationSchema<Prediction> {
    private static final long serialVersionUID = 1L;
    private transient JsonWriter writer;

    @Override
    public byte[] serialize(Prediction p) {
        if (writer == null) {
            writer = new JsonWriter();
        }
        return writer.write(
                json -> {
                    json.writeStartObject();
                    json.writeStringField("event_id", p.eventId());
                    json.writeStringField("unit", p.unit());
                    json.writeStringField("experiment", p.experiment());
                    json.writeStringField("model", p.model());
                    json.writeStringField("version", p.version());
                    json.writeStringField("arm", p.arm().wireName());
                    json.writeBooleanField("served", p.served());
                    json.writeNumberField("score", p.score());
                    json.writeArrayFieldStart("outputs");
                    for (float v : p.outputs()) {
                        json.writeNumber(v);
                    }
                    json.writeEndArray();
                    json.writeNumberField("ts", p.ts());
                    json.writeNumberField("scored_at", p.scoredAt());
                    json.writeNumberField("latency_us", p.latencyUs());
                    json.writeStringField("plan_id", p.planId());
                    json.writeNumberField("bucket", p.bucket());
                    if (p.fallbackFrom() != null) {
                        json.writeStringField("fallback_from", p.fallbackFrom());
                    }
                    json.writeEndObject();
                });
    }
}
