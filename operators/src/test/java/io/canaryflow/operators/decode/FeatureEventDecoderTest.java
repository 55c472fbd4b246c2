package io.canaryflow.operators.decode;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FeatureEventDecoderTest {
    /** The Kafka timestamp of the test records: 2024-11-23T07:01:18.901Z plus a minute. */
    static final long RECORD_TS = 1_732_345_738_901L;

    static final ExperimentSchema SCHEMA =
            new ExperimentSchema("fraud", "fraud", List.of("amount", "age_days"));
    final FeatureEventDecoder decoder = new FeatureEventDecoder(Map.of("fraud", SCHEMA), 65_536);

    static SourceRecord record(String json) {
        return new SourceRecord(
                null, json.getBytes(StandardCharsets.UTF_8), "features", 3, 42, RECORD_TS);
    }

    FeatureEvent valid(String json) {
        DecodeResult<FeatureEvent> r = decoder.decode(record(json), 77);
        assertThat(r).isInstanceOf(DecodeResult.Valid.class);
        return ((DecodeResult.Valid<FeatureEvent>) r).value();
    }

    DeadLetter rejected(String json, Reason reason) {
        DeadLetter d = rejected(json.getBytes(StandardCharsets.UTF_8), reason);
        assertThat(new String(d.original(), StandardCharsets.UTF_8)).isEqualTo(json);
        return d;
    }

    DeadLetter rejected(byte[] bytes, Reason reason) {
        DecodeResult<FeatureEvent> r =
                decoder.decode(new SourceRecord(null, bytes, "features", 3, 42, RECORD_TS), 77);
        assertThat(r).isInstanceOf(DecodeResult.Rejected.class);
        DeadLetter d = ((DecodeResult.Rejected<FeatureEvent>) r).deadLetter();
        assertThat(d.reason()).isEqualTo(reason);
        assertThat(d.topic()).isEqualTo("features");
        assertThat(d.partition()).isEqualTo(3);
        assertThat(d.offset()).isEqualTo(42);
        assertThat(d.at()).isEqualTo(77);
        assertThat(d.original()).isEqualTo(bytes);
        return d;
    }

    @Test
    void shouldDecodeNamedFeaturesIntoSchemaOrderIgnoringUnknownOnes() {
        FeatureEvent e =
                valid(
                        "{\"event_id\":\"e-1\",\"unit\":\"user-42\",\"experiment\":\"fraud\",\"ts\":1732345678901,"
                                + "\"features\":{\"age_days\":300,\"extra\":1,\"amount\":12.5},\"segment\":{\"country\":\"DE\"}}");
        assertThat(e.eventId()).isEqualTo("e-1");
        assertThat(e.unit()).isEqualTo("user-42");
        assertThat(e.ts()).isEqualTo(1732345678901L);
        assertThat(e.features()).containsExactly(12.5f, 300f);
        assertThat(e.segment()).containsExactly(Map.entry("country", "DE"));
    }

    @Test
    void shouldDecodeDenseArrayAndFallBackToRecordTimestamp() {
        FeatureEvent e =
                valid(
                        "{\"features\":[1.5,2],\"experiment\":\"fraud\",\"unit\":\"u\",\"event_id\":\"e-2\"}");
        assertThat(e.features()).containsExactly(1.5f, 2f);
        assertThat(e.ts()).isEqualTo(RECORD_TS);
        assertThat(e.segment()).isEmpty();
    }

    @Test
    void shouldRejectEveryKindOfBadInputWithItsReason() {
        assertThat(rejected("{\"event_id\":\"e\",\"unit\":", Reason.MALFORMED).detail())
                .startsWith("invalid JSON");
        assertThat(rejected("[1,2]", Reason.MALFORMED).detail())
                .isEqualTo("not a JSON object: the record is an array");
        assertThat(
                        rejected(
                                        "{\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":[1,2]}",
                                        Reason.MALFORMED)
                                .detail())
                .isEqualTo("missing required field 'event_id'");
        assertThat(
                        rejected(
                                        "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":{\"amount\":\"12\",\"age_days\":1}}",
                                        Reason.MALFORMED)
                                .detail())
                .contains("feature 'amount' must be a number");
        assertThat(
                        rejected(
                                        "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":[1,2]} {}",
                                        Reason.MALFORMED)
                                .detail())
                .contains("trailing content");
        DeadLetter missing =
                rejected(
                        "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":{\"amount\":1}}",
                        Reason.MISSING_FEATURE);
        assertThat(missing.detail()).contains("[age_days]");
        assertThat(missing.eventId()).isEqualTo("e");
        assertThat(missing.experiment()).isEqualTo("fraud");
        rejected(
                "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":{\"amount\":1,\"age_days\":null}}",
                Reason.MISSING_FEATURE);
        assertThat(
                        rejected(
                                        "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":{\"amount\":NaN,\"age_days\":1}}",
                                        Reason.NON_FINITE)
                                .detail())
                .isEqualTo("feature 'amount' is NaN");
        rejected(
                "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":[-Infinity,1]}",
                Reason.NON_FINITE);
        assertThat(
                        rejected(
                                        "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":[1e39,1]}",
                                        Reason.NON_FINITE)
                                .detail())
                .contains("overflows float32");
        assertThat(
                        rejected(
                                        "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":[1,2,3]}",
                                        Reason.WRONG_WIDTH)
                                .detail())
                .contains("has 3 values", "expects 2");
        assertThat(
                        rejected(
                                        "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"spam\",\"features\":[1,2]}",
                                        Reason.UNKNOWN_EXPERIMENT)
                                .detail())
                .contains("'spam'", "[fraud]");
        rejected(
                "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":["
                        + "1,".repeat(40_000)
                        + "1]}",
                Reason.OVERSIZE);
    }

    static final String GOOD =
            "{\"event_id\":\"e\",\"unit\":\"u\",\"experiment\":\"fraud\",\"ts\":5,\"features\":[1,2]}";

    @Test
    void shouldRejectWrongJsonTypesNamingTheField() {
        valid(GOOD);
        assertThat(rejected(GOOD.replace("\"e\"", "7"), Reason.MALFORMED).detail())
                .isEqualTo("'event_id' must be a string, got a number");
        assertThat(rejected(GOOD.replace("\"u\"", "12"), Reason.MALFORMED).detail())
                .isEqualTo("'unit' must be a string, got a number");
        assertThat(rejected(GOOD.replace("\"fraud\"", "1"), Reason.MALFORMED).detail())
                .isEqualTo("'experiment' must be a string, got a number");
        assertThat(rejected(GOOD.replace("\"u\"", "true"), Reason.MALFORMED).detail())
                .isEqualTo("'unit' must be a string, got a boolean");
        assertThat(rejected(GOOD.replace(":5,", ":\"5\","), Reason.MALFORMED).detail())
                .contains("'ts'", "got a string");
        assertThat(rejected(GOOD.replace(":5,", ":5.5,"), Reason.MALFORMED).detail())
                .contains("'ts'", "got a number");
        assertThat(
                        rejected(
                                        GOOD.replace(":5,", ":123456789012345678901234567890,"),
                                        Reason.MALFORMED)
                                .detail())
                .startsWith("'ts' is out of range");
        assertThat(
                        rejected(
                                        GOOD.replace("}", ",\"segment\":{\"country\":49}}"),
                                        Reason.MALFORMED)
                                .detail())
                .isEqualTo("segment 'country' must be a string, got a number");
        assertThat(rejected(GOOD.replace("[1,2]", "\"1,2\""), Reason.MALFORMED).detail())
                .isEqualTo("'features' must be an object or an array, got a string");
        assertThat(rejected(GOOD.replace("[1,2]", "[1,\"2\"]"), Reason.MALFORMED).detail())
                .isEqualTo("features[1] must be a number, got a string");
    }

    @Test
    void shouldRejectATsThatIsNotEpochMillisecondsOrRunsFarAheadOfItsRecord() {
        // an hour ahead of the record's timestamp is the default limit
        valid(GOOD.replace(":5,", ":" + (RECORD_TS + 3_600_000) + ","));
        assertThat(
                        rejected(
                                        GOOD.replace(":5,", ":" + (RECORD_TS + 3_600_001) + ","),
                                        Reason.MALFORMED)
                                .detail())
                .contains("ms ahead of the record's timestamp", "events.max-ahead");
        // microseconds taken for milliseconds
        assertThat(
                        rejected(
                                        GOOD.replace(":5,", ":" + RECORD_TS * 1_000 + ","),
                                        Reason.MALFORMED)
                                .detail())
                .contains("between 1970 and 9999");
        assertThat(rejected(GOOD.replace(":5,", ":-1,"), Reason.MALFORMED).detail())
                .contains("between 1970 and 9999");
        // without a record timestamp only the range applies
        assertThat(
                        decoder.decode(
                                new SourceRecord(
                                        null,
                                        GOOD.replace(":5,", ":" + (RECORD_TS + 86_400_000) + ",")
                                                .getBytes(StandardCharsets.UTF_8),
                                        "features",
                                        0,
                                        0,
                                        -1),
                                1))
                .isInstanceOf(DecodeResult.Valid.class);
    }

    @Test
    void shouldRejectDuplicateKeysAtEveryLevelNamingTheKey() {
        assertThat(
                        rejected(
                                        GOOD.replace("\"ts\":5,", "\"ts\":5,\"unit\":\"v\","),
                                        Reason.MALFORMED)
                                .detail())
                .startsWith("duplicate key")
                .contains("'unit'");
        assertThat(
                        rejected(
                                        GOOD.replace(
                                                "[1,2]",
                                                "{\"amount\":1,\"age_days\":2,\"amount\":3}"),
                                        Reason.MALFORMED)
                                .detail())
                .contains("'amount'");
        assertThat(
                        rejected(
                                        GOOD.replace(
                                                "}", ",\"segment\":{\"c\":\"DE\",\"c\":\"FR\"}}"),
                                        Reason.MALFORMED)
                                .detail())
                .contains("'c'");
    }

    @Test
    void shouldAcceptUtf8OnlyAndRejectUtf16InvalidUtf8AndDeepNesting() {
        valid(GOOD.replace("\"u\"", "\"Zoë 日本\""));
        // UTF-8 with a byte-order mark is still UTF-8
        byte[] good = GOOD.getBytes(StandardCharsets.UTF_8);
        byte[] bom = new byte[good.length + 3];
        bom[0] = (byte) 0xEF;
        bom[1] = (byte) 0xBB;
        bom[2] = (byte) 0xBF;
        System.arraycopy(good, 0, bom, 3, good.length);
        assertThat(decoder.decode(new SourceRecord(null, bom, "features", 3, 42, 1), 77))
                .isInstanceOf(DecodeResult.Valid.class);
        assertThat(rejected(GOOD.getBytes(StandardCharsets.UTF_16BE), Reason.MALFORMED).detail())
                .contains("not UTF-8");
        assertThat(rejected(GOOD.getBytes(StandardCharsets.UTF_16), Reason.MALFORMED).detail())
                .contains("UTF-16 byte-order mark");
        assertThat(
                        rejected(
                                        GOOD.getBytes(java.nio.charset.Charset.forName("UTF-32LE")),
                                        Reason.MALFORMED)
                                .detail())
                .contains("not UTF-8");
        // Latin-1 'ë' (0xEB alone), an overlong '/' (C0 AF) and a UTF-16 surrogate (ED A0 80)
        assertThat(
                        rejected(
                                        GOOD.replace("\"u\"", "\"Zoë\"")
                                                .getBytes(StandardCharsets.ISO_8859_1),
                                        Reason.MALFORMED)
                                .detail())
                .startsWith("not valid UTF-8");
        for (byte[] sequence :
                new byte[][] {
                    {(byte) 0xC0, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0, (byte) 0x80}
                }) {
            byte[] bad = GOOD.replace("\"u\"", "\"###\"").getBytes(StandardCharsets.UTF_8);
            int at = GOOD.indexOf("\"u\"") + 1;
            System.arraycopy(sequence, 0, bad, at, sequence.length);
            assertThat(rejected(bad, Reason.MALFORMED).detail()).startsWith("not valid UTF-8");
        }
        String deep = "[".repeat(10_000) + "]".repeat(10_000);
        assertThat(rejected(GOOD.replace("}", ",\"x\":" + deep + "}"), Reason.MALFORMED).detail())
                .contains("nesting depth");
    }

    @Test
    void shouldRejectEmptyRecordAsMalformed() {
        DecodeResult<FeatureEvent> r =
                decoder.decode(new SourceRecord(null, null, "features", 0, 1, -1), 5);
        assertThat(((DecodeResult.Rejected<FeatureEvent>) r).deadLetter().reason())
                .isEqualTo(Reason.MALFORMED);
    }

    @Test
    void shouldReuseBuffersAcrossEventsWithoutLeakingValues() {
        valid(
                "{\"event_id\":\"a\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":{\"amount\":1,\"age_days\":2,"
                        + "\"f1\":1,\"f2\":1,\"f3\":1,\"f4\":1,\"f5\":1,\"f6\":1,\"f7\":1,\"f8\":1,\"f9\":1,\"f10\":1}}");
        rejected(
                "{\"event_id\":\"b\",\"unit\":\"u\",\"experiment\":\"fraud\",\"features\":{\"amount\":3}}",
                Reason.MISSING_FEATURE);
    }
}
