package io.canaryflow.operators.records;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Writes one JSON document at a time into a reused buffer. Not thread-safe. */
public final class JsonWriter {
    /** Body of one document. */
    public interface Body {
        void write(JsonGenerator json) throws IOException;
    }

    /**
     * Numbers written by the shortest decimal that reads back as the same double or float
     * (Schubfach): several times faster than {@link Double#toString}, which was the largest single
     * cost of writing a prediction.
     */
    private static final JsonFactory FACTORY =
            JsonFactory.builder().enable(StreamWriteFeature.USE_FAST_DOUBLE_WRITER).build();

    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(512);

    public byte[] write(Body body) {
        buffer.reset();
        try (JsonGenerator json = FACTORY.createGenerator(buffer, JsonEncoding.UTF8)) {
            body.write(json);
        } catch (IOException e) {
            throw new UncheckedIOException("writing JSON to memory failed", e);
        }
        return buffer.toByteArray();
    }
}
