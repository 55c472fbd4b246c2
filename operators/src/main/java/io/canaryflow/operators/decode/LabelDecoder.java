package io.canaryflow.operators.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import java.io.IOException;

/**
 * Decodes and validates labels, {@code {"event_id":"e-1","label":1.0,"ts":1732345678901}}: size
 * ({@code OVERSIZE}), JSON shape and required fields ({@code MALFORMED}), a finite label ({@code
 * NON_FINITE}). Other fields are ignored; a missing {@code ts} falls back to the source record's
 * timestamp.
 */
public final class LabelDecoder {
    private static final JsonFactory JSON =
            JsonFactory.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

    private final int maxRecordBytes;

    public LabelDecoder(int maxRecordBytes) {
        this.maxRecordBytes = maxRecordBytes;
    }

    /**
     * Decodes one record.
     *
     * @param now processing time, stamped on a dead letter
     */
    public DecodeResult<Label> decode(SourceRecord record, long now) {
        String eventId = null;
        try {
            byte[] bytes = Reject.sized(record.value(), maxRecordBytes, "label record");
            double label = Double.NaN;
            boolean sawLabel = false;
            long ts = Long.MIN_VALUE;
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
                                        Reason.MALFORMED, "'event_id' must be a non-empty string");
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
                                        Reason.MALFORMED, "'label' must be a number or a boolean");
                            }
                            sawLabel = true;
                        }
                        case "ts" -> {
                            if (token != JsonToken.VALUE_NUMBER_INT) {
                                throw new Reject(
                                        Reason.MALFORMED,
                                        "'ts' must be epoch milliseconds (an integer)");
                            }
                            ts = p.getLongValue();
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
            return new DecodeResult.Valid<>(
                    new Label(eventId, label, ts == Long.MIN_VALUE ? record.timestamp() : ts));
        } catch (Reject r) {
            return rejected(record, r.reason, r.getMessage(), eventId, now);
        } catch (JsonProcessingException e) {
            return rejected(
                    record,
                    Reason.MALFORMED,
                    "invalid JSON: " + e.getOriginalMessage(),
                    eventId,
                    now);
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
