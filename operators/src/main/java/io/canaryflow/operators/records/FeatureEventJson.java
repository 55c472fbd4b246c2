package io.canaryflow.operators.records;

import java.util.List;
import java.util.Map;

/**
 * Writes feature events in the {@code features} topic's wire format, for producers (the demo, the
 * tests, benchmarks). Not thread-safe.
 */
public final class FeatureEventJson {
    private final JsonWriter writer = new JsonWriter();

    /** {@code features} as a named object, {@code names[i] -> values[i]}. */
    public byte[] write(
            String eventId,
            String unit,
            String experiment,
            long ts,
            List<String> names,
            double[] values,
            Map<String, String> segment) {
        return writer.write(
                json -> {
                    json.writeStartObject();
                    json.writeStringField("event_id", eventId);
                    json.writeStringField("unit", unit);
                    json.writeStringField("experiment", experiment);
                    json.writeNumberField("ts", ts);
                    json.writeObjectFieldStart("features");
                    for (int i = 0; i < names.size(); i++) {
                        json.writeNumberField(names.get(i), values[i]);
                    }
                    json.writeEndObject();
                    if (segment != null && !segment.isEmpty()) {
                        json.writeObjectFieldStart("segment");
                        for (Map.Entry<String, String> e : segment.entrySet()) {
                            json.writeStringField(e.getKey(), e.getValue());
                        }
                        json.writeEndObject();
                    }
                    json.writeEndObject();
                });
    }
}
