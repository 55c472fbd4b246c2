package io.canaryflow.operators.decode;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * What the decoders share of the wire contract: UTF-8 JSON, no duplicate keys anywhere, bounded
 * nesting, and how a JSON problem is named in a dead letter.
 */
final class Json {
    /** Deeper than any feature event or label needs; deeper input is {@code MALFORMED}. */
    static final int MAX_NESTING = 32;

    private Json() {}

    /**
     * A parser factory that rejects duplicate keys at every level and nesting beyond {@link
     * #MAX_NESTING}, and reads {@code NaN}/{@code Infinity} tokens as numbers (so that they are
     * {@code NON_FINITE}, not {@code MALFORMED}).
     */
    static JsonFactory strictFactory() {
        return JsonFactory.builder()
                .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .streamReadConstraints(
                        StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING).build())
                .build();
    }

    /**
     * The bytes if they are UTF-8 text, else a {@code MALFORMED} rejection. Jackson would detect
     * UTF-16 and UTF-32 by their zero bytes or byte-order marks and decode them, and lets some
     * invalid UTF-8 through; the wire contract is UTF-8 only. A UTF-8 byte-order mark is allowed
     * (RFC 8259 lets parsers ignore it). ASCII-only input, the common case, costs one scan.
     */
    static byte[] utf8(byte[] bytes) throws Reject {
        int n = bytes.length;
        if (n >= 2
                && ((bytes[0] == (byte) 0xFE && bytes[1] == (byte) 0xFF)
                        || (bytes[0] == (byte) 0xFF && bytes[1] == (byte) 0xFE))) {
            throw new Reject(Reason.MALFORMED, "not UTF-8: starts with a UTF-16 byte-order mark");
        }
        boolean ascii = true;
        for (int i = 0; i < n; i++) {
            byte b = bytes[i];
            if (b == 0) {
                throw new Reject(
                        Reason.MALFORMED,
                        String.format(
                                "not UTF-8 JSON: a zero byte at offset %d (UTF-16 or UTF-32?)", i));
            }
            if (b < 0) {
                ascii = false;
            }
        }
        if (!ascii) {
            try {
                StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(bytes));
            } catch (CharacterCodingException e) {
                throw new Reject(Reason.MALFORMED, "not valid UTF-8: " + e.getMessage());
            }
        }
        return bytes;
    }

    /** The detail of a dead letter for a JSON problem the parser found. */
    static String problem(JsonProcessingException e) {
        String message = e.getOriginalMessage();
        if (message != null && message.startsWith("Duplicate field")) {
            return "duplicate key: " + message;
        }
        return "invalid JSON: " + message;
    }

    /**
     * A record's event time: its {@code ts} if it had one ({@code Long.MIN_VALUE} if not), else its
     * Kafka record timestamp; either must be {@link #plausible}.
     */
    static long eventTime(long ts, SourceRecord record, long maxAheadMillis) throws Reject {
        if (ts == Long.MIN_VALUE) {
            if (record.timestamp() < 0) {
                throw new Reject(
                        Reason.MALFORMED, "missing 'ts' and the record carries no timestamp");
            }
            ts = record.timestamp();
        }
        return plausible(ts, record.timestamp(), maxAheadMillis);
    }

    /** The latest event time accepted: 9999-12-31T23:59:59.999Z. */
    static final long MAX_TS = 253_402_300_799_999L;

    /**
     * Checks an event's or label's {@code ts} (epoch milliseconds): not negative, not beyond {@link
     * #MAX_TS}, and at most {@code maxAheadMillis} ahead of its Kafka record's timestamp when the
     * record has one. A ts far ahead — microseconds or nanoseconds taken for milliseconds, a clock
     * gone wrong — would move its partition's event time so far that every later event of it is
     * late; rejecting it depends only on the record, so a replay decides the same.
     */
    static long plausible(long ts, long recordTimestamp, long maxAheadMillis) throws Reject {
        if (ts < 0 || ts > MAX_TS) {
            throw new Reject(
                    Reason.MALFORMED,
                    String.format("'ts' %d is not epoch milliseconds between 1970 and 9999", ts));
        }
        if (recordTimestamp >= 0 && ts - recordTimestamp > maxAheadMillis) {
            throw new Reject(
                    Reason.MALFORMED,
                    String.format(
                            "'ts' %d is %d ms ahead of the record's timestamp %d (at most %d: events.max-ahead)",
                            ts, ts - recordTimestamp, recordTimestamp, maxAheadMillis));
        }
        return ts;
    }

    /** Reads {@code ts}: epoch milliseconds as a JSON integer that fits a long. */
    static long epochMillis(JsonParser p, JsonToken token) throws IOException, Reject {
        if (token != JsonToken.VALUE_NUMBER_INT) {
            throw new Reject(
                    Reason.MALFORMED,
                    "'ts' must be epoch milliseconds (an integer), got " + kind(token));
        }
        try {
            return p.getLongValue();
        } catch (InputCoercionException e) {
            throw new Reject(Reason.MALFORMED, "'ts' is out of range: " + p.getText());
        }
    }

    /** How a detail names the JSON type of a value. */
    static String kind(JsonToken token) {
        if (token == null) {
            return "nothing";
        }
        return switch (token) {
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            default -> token.name();
        };
    }
}
