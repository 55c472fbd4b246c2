package io.canaryflow.operators.control;

import io.canaryflow.operators.records.JsonWriter;
import org.apache.flink.api.common.serialization.SerializationSchema;

/** Writes a {@link Decision} as the control topic's JSON (see {@link ControlCodec}). */
public final class DecisionSchema implements SerializationSchema<Decision> {
    private static final long serialVersionUID = 1L;
    private transient JsonWriter writer;

    @Override
    public byte[] serialize(Decision d) {
        if (writer == null) {
            writer = new JsonWriter();
        }
        return ControlCodec.write(d, writer);
    }
}
