package io.canaryflow.operators.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.DeadLetterSchema;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes and validates feature events (wire format in the README) without a JSON tree: a streaming
 * parser, feature names canonicalized by the parser's symbol table, values collected into reused
 * arrays. Checks, in order: size ({@code OVERSIZE}), JSON shape and required fields ({@code
 * MALFORMED}: not UTF-8, not one JSON object, a duplicate key at any level, nesting deeper than
 * {@value Json#MAX_NESTING}, a field of the wrong JSON type — {@code event_id}, {@code unit},
 * {@code experiment} and segment values are strings, {@code ts} an integer that fits a long),
 * experiment ({@code UNKNOWN_EXPERIMENT}), dense width ({@code WRONG_WIDTH}), presence of every
 * schema feature ({@code MISSING_FEATURE}), finiteness within float32 ({@code NON_FINITE}). Feature
 * names the schema does not know are ignored. A missing {@code ts} falls back to the source
 * record's timestamp.
 *
 * <p>Not thread-safe: one decoder per operator instance.
 */
public final class FeatureEventDecoder implements SourceDecoder {
    private static final long serialVersionUID = 1L;

    private static final JsonFactory JSON = Json.strictFactory();

    /**
     * The longest segment name plus value: segments are labels of the monitoring reports, which
     * carry each value once per feature.
     */
    public static final int MAX_SEGMENT_CHARS = 256;

    private final Map<String, ExperimentSchema> schemas;
    private final int maxRecordBytes;

    // Reused per call: features as read, before they are mapped to the schema.
    private transient String[] names;
    private transient double[] values;
    private transient JsonToken[] kinds;
    private transient int count;
    private transient boolean dense;

    /** The default of {@code events.max-ahead}. */
    public static final long DEFAULT_MAX_AHEAD_MILLIS = 3_600_000;

    private final long maxAheadMillis;

    public FeatureEventDecoder(Map<String, ExperimentSchema> schemas, int maxRecordBytes) {
        this(schemas, maxRecordBytes, DEFAULT_MAX_AHEAD_MILLIS);
    }

    /**
     * @param maxAheadMillis how far an event's {@code ts} may be ahead of its Kafka record's
     *     timestamp
     */
    public FeatureEventDecoder(
            Map<String, ExperimentSchema> schemas, int maxRecordBytes, long maxAheadMillis) {
        this.schemas = Map.copyOf(schemas);
        this.maxRecordBytes = maxRecordBytes;
        this.maxAheadMillis = maxAheadMillis;
    }

    /**
     * Decodes one record.
     *
     * @param now processing time, stamped on a dead letter
     */
    @Override
    public Decoded read(SourceRecord record, long now) {
        DecodeResult<FeatureEvent> result = decode(record, now);
        return result instanceof DecodeResult.Valid<FeatureEvent> v
                ? Decoded.of(v.value())
                : Decoded.of(((DecodeResult.Rejected<FeatureEvent>) result).deadLetter());
    }

    public DecodeResult<FeatureEvent> decode(SourceRecord record, long now) {
        String eventId = null;
        String experiment = null;
        if (names == null) {
            names = new String[64];
            values = new double[64];
            kinds = new JsonToken[64];
        }
        try {
            byte[] bytes = Json.utf8(Reject.sized(record.value(), maxRecordBytes, "record"));
            String unit = null;
            long ts = Long.MIN_VALUE;
            Map<String, String> segment = Map.of();
            count = 0;
            dense = false;
            boolean sawFeatures = false;
            try (JsonParser p = JSON.createParser(bytes)) {
                JsonToken first = p.nextToken();
                if (first != JsonToken.START_OBJECT) {
                    throw new Reject(
                            Reason.MALFORMED,
                            "not a JSON object: the record is " + Json.kind(first));
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken token = p.nextToken();
                    switch (field) {
                        case "event_id" -> eventId = text(p, token, field);
                        case "unit" -> unit = text(p, token, field);
                        case "experiment" -> experiment = text(p, token, field);
                        case "ts" -> ts = Json.epochMillis(p, token);
                        case "features" -> {
                            readFeatures(p, token);
                            sawFeatures = true;
                        }
                        case "segment" -> segment = readSegment(p, token);
                        default -> p.skipChildren();
                    }
                }
                if (p.currentToken() != JsonToken.END_OBJECT) {
                    throw new Reject(Reason.MALFORMED, "not a JSON object");
                }
                if (p.nextToken() != null) {
                    throw new Reject(Reason.MALFORMED, "trailing content after the JSON object");
                }
            } catch (JsonProcessingException e) {
                throw new Reject(Reason.MALFORMED, Json.problem(e));
            }
            requirePresent(eventId, "event_id");
            requirePresent(unit, "unit");
            requirePresent(experiment, "experiment");
            if (!sawFeatures) {
                throw new Reject(Reason.MALFORMED, "missing required field 'features'");
            }
            ts = Json.eventTime(ts, record, maxAheadMillis);
            ExperimentSchema schema = schemas.get(experiment);
            if (schema == null) {
                throw new Reject(
                        Reason.UNKNOWN_EXPERIMENT,
                        String.format(
                                "experiment '%s' is not configured (known: %s)",
                                experiment, schemas.keySet().stream().sorted().toList()));
            }
            float[] features = toSchema(schema);
            return new DecodeResult.Valid<>(
                    new FeatureEvent(eventId, unit, experiment, ts, features, segment, record));
        } catch (Reject r) {
            return new DecodeResult.Rejected<>(
                    DeadLetter.of(record, r.reason, r.getMessage(), eventId, experiment, now));
        } catch (IOException e) {
            return new DecodeResult.Rejected<>(
                    DeadLetter.of(
                            record,
                            Reason.MALFORMED,
                            "unreadable: " + e.getMessage(),
                            eventId,
                            experiment,
                            now));
        }
    }

    private static String text(JsonParser p, JsonToken token, String field)
            throws IOException, Reject {
        if (token == JsonToken.VALUE_STRING) {
            return p.getText();
        }
        throw new Reject(
                Reason.MALFORMED,
                String.format("'%s' must be a string, got %s", field, Json.kind(token)));
    }

    private static void requirePresent(String value, String field) throws Reject {
        if (value == null || value.isEmpty()) {
            throw new Reject(Reason.MALFORMED, String.format("missing required field '%s'", field));
        }
    }

    private void readFeatures(JsonParser p, JsonToken token) throws IOException, Reject {
        count = 0;
        if (token == JsonToken.START_OBJECT) {
            dense = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken v = p.nextToken();
                if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                    throw new Reject(
                            Reason.MALFORMED, String.format("feature '%s' must be a number", name));
                }
                add(name, v, p);
            }
        } else if (token == JsonToken.START_ARRAY) {
            dense = true;
            JsonToken v;
            while ((v = p.nextToken()) != JsonToken.END_ARRAY) {
                if (v == JsonToken.START_OBJECT || v == JsonToken.START_ARRAY) {
                    throw new Reject(
                            Reason.MALFORMED,
                            String.format("features[%d] must be a number", count));
                }
                add(null, v, p);
            }
        } else {
            throw new Reject(
                    Reason.MALFORMED,
                    "'features' must be an object or an array, got " + Json.kind(token));
        }
    }

    private void add(String name, JsonToken kind, JsonParser p) throws IOException, Reject {
        if (count == names.length) {
            names = Arrays.copyOf(names, count * 2);
            values = Arrays.copyOf(values, count * 2);
            kinds = Arrays.copyOf(kinds, count * 2);
        }
        names[count] = name;
        kinds[count] = kind;
        if (kind == JsonToken.VALUE_NUMBER_INT || kind == JsonToken.VALUE_NUMBER_FLOAT) {
            values[count] = p.getDoubleValue();
        } else if (kind == JsonToken.VALUE_NULL) {
            values[count] = Double.NaN;
        } else {
            String label = name == null ? "features[" + count + "]" : "feature '" + name + "'";
            throw new Reject(Reason.MALFORMED, label + " must be a number, got " + Json.kind(kind));
        }
        count++;
    }

    private float[] toSchema(ExperimentSchema schema) throws Reject {
        int width = schema.width();
        float[] out = new float[width];
        if (dense) {
            if (count != width) {
                throw new Reject(
                        Reason.WRONG_WIDTH,
                        String.format(
                                "features array has %d values, experiment '%s' expects %d %s",
                                count, schema.experiment(), width, schema.features()));
            }
            for (int i = 0; i < width; i++) {
                out[i] = checked(schema.features().get(i), i);
            }
            return out;
        }
        boolean[] seen = new boolean[width];
        int found = 0;
        for (int i = 0; i < count; i++) {
            int column = schema.indexOf(names[i]);
            if (column < 0 || kinds[i] == JsonToken.VALUE_NULL) {
                continue; // unknown features are ignored; a null is a missing value
            }
            if (!seen[column]) {
                seen[column] = true;
                found++;
            }
            out[column] = checked(names[i], i);
        }
        if (found < width) {
            List<String> missing = new ArrayList<>();
            for (int c = 0; c < width; c++) {
                if (!seen[c]) {
                    missing.add(schema.features().get(c));
                }
            }
            throw new Reject(
                    Reason.MISSING_FEATURE,
                    String.format(
                            "missing feature(s) %s for experiment '%s'",
                            missing, schema.experiment()));
        }
        return out;
    }

    private float checked(String name, int i) throws Reject {
        if (kinds[i] == JsonToken.VALUE_NULL) {
            throw new Reject(Reason.MISSING_FEATURE, String.format("feature '%s' is null", name));
        }
        double v = values[i];
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            throw new Reject(Reason.NON_FINITE, String.format("feature '%s' is %s", name, v));
        }
        if (Math.abs(v) > Float.MAX_VALUE) {
            throw new Reject(
                    Reason.NON_FINITE,
                    String.format("feature '%s' = %s overflows float32", name, v));
        }
        return (float) v;
    }

    private static Map<String, String> readSegment(JsonParser p, JsonToken token)
            throws IOException, Reject {
        if (token == JsonToken.VALUE_NULL) {
            return Map.of();
        }
        if (token != JsonToken.START_OBJECT) {
            throw new Reject(
                    Reason.MALFORMED,
                    "'segment' must be an object of strings, got " + Json.kind(token));
        }
        Map<String, String> segment = new HashMap<>();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            if (v != JsonToken.VALUE_STRING) {
                throw new Reject(
                        Reason.MALFORMED,
                        String.format("segment '%s' must be a string, got %s", key, Json.kind(v)));
            }
            String value = p.getText();
            if (key.length() + value.length() > MAX_SEGMENT_CHARS) {
                throw new Reject(
                        Reason.MALFORMED,
                        String.format(
                                "segment '%s' is longer than %d characters",
                                DeadLetterSchema.bounded(key), MAX_SEGMENT_CHARS));
            }
            segment.put(key, value);
        }
        return segment;
    }
}
