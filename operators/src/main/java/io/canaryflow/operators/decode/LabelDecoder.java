package io.canaryflow.operators.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import io.canaryflow.operators.units.UnitSketch;
import java.io.IOException;

/**
 * Decodes and validates labels, {@code {"event_id":"e-1","label":1.0,"ts":1732345678901}}: size
 * ({@code OVERSIZE}), UTF-8 JSON without duplicate keys, its shape and required fields of the right
 * types ({@code MALFORMED}), a finite label ({@code NON_FINITE}). An optional {@code unit} (a
 * string) names the event's unit, so that a label of a unit not sampled for labels is dropped at
 * once. Other fields are ignored; a missing {@code ts} falls back to the source record's timestamp.
 */
public final class LabelDecoder implements SourceDecoder {
    private static final long serialVersionUID = 1L;

    private static final JsonFactory JSON = Json.strictFactory();

    private final int maxRecordBytes;

    private final long maxAheadMillis;

    public LabelDecoder(int maxRecordBytes) {
        this(maxRecordBytes, FeatureEventDecoder.DEFAULT_MAX_AHEAD_MILLIS);
    }

    /**
     * @param maxAheadMillis how far a label's {@code ts} may be ahead of its record's timestamp
     */
    public LabelDecoder(int maxRecordBytes, long maxAheadMillis) {
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
        DecodeResult<Label> result = decode(record, now);
        return result instanceof DecodeResult.Valid<Label> v
                ? Decoded.of(v.value())
                : Decoded.of(((DecodeResult.Rejected<Label>) result).deadLetter());
    }

    public DecodeResult<Label> decode(SourceRecord record, long now) {
        String eventId = null;
        try {
            byte[] bytes = Json.utf8(Reject.sized(record.value(), maxRecordBytes, "label record"));
            double label = Double.NaN;
            boolean sawLabel = false;
            long ts = Long.MIN_VALUE;
            long unit = 0;
            try (JsonParser p = JSON.createParser(bytes)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new Reject(Reason.MALFORMED, "label is not a JSON object");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String field = p.currentName();
                    JsonToken token = p.nextToken();
                    switch (field) {
                        case "event_id" -> {
                            if (token != JsonToken.VALUE_STRING || p.getText().isEmpty()) {
                                throw new Reject(
                                        Reason.MALFORMED,
                                        "'event_id' must be a non-empty string, got "
                                                + Json.kind(token));
                            }
                            eventId = p.getText();
                        }
                        case "label" -> {
                            if (token == JsonToken.VALUE_TRUE || token == JsonToken.VALUE_FALSE) {
                                label = token == JsonToken.VALUE_TRUE ? 1.0 : 0.0;
                            } else if (token.isNumeric()) {
                                label = p.getDoubleValue();
                            } else {
                                throw new Reject(
                                        Reason.MALFORMED,
                                        "'label' must be a number or a boolean, got "
                                                + Json.kind(token));
                            }
                            sawLabel = true;
                        }
                        case "ts" -> ts = Json.epochMillis(p, token);
                        case "unit" -> {
                            if (token != JsonToken.VALUE_NULL) {
                                if (token != JsonToken.VALUE_STRING || p.getText().isEmpty()) {
                                    throw new Reject(
                                            Reason.MALFORMED,
                                            "'unit' must be a non-empty string, got "
                                                    + Json.kind(token));
                                }
                                unit = UnitSketch.hash(p.getText());
                            }
                        }
                        default -> p.skipChildren();
                    }
                }
                if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                    throw new Reject(Reason.MALFORMED, "label is not a single JSON object");
                }
            }
            if (eventId == null) {
                throw new Reject(Reason.MALFORMED, "label has no 'event_id'");
            }
            if (!sawLabel) {
                throw new Reject(Reason.MALFORMED, "label has no 'label'");
            }
            if (!Double.isFinite(label)) {
                throw new Reject(Reason.NON_FINITE, "'label' is not finite: " + label);
            }
            ts = Json.eventTime(ts, record, maxAheadMillis);
            return new DecodeResult.Valid<>(new Label(eventId, label, ts, unit));
        } catch (Reject r) {
            return rejected(record, r.reason, r.getMessage(), eventId, now);
        } catch (JsonProcessingException e) {
            return rejected(record, Reason.MALFORMED, Json.problem(e), eventId, now);
        } catch (IOException e) {
            return rejected(
                    record, Reason.MALFORMED, "unreadable: " + e.getMessage(), eventId, now);
        }
    }

    private static DecodeResult<Label> rejected(
            SourceRecord record, Reason reason, String detail, String eventId, long now) {
        return new DecodeResult.Rejected<>(
                DeadLetter.of(record, reason, detail, eventId, null, now));
    }
}
