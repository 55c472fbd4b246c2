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
    static final ExperimentSchema SCHEMA =
            new ExperimentSchema("fraud", "fraud", List.of("amount", "age_days"));
    final FeatureEventDecoder decoder = new FeatureEventDecoder(Map.of("fraud", SCHEMA), 1024);

    static SourceRecord record(String json) {
        return new SourceRecord(
                null, json.getBytes(StandardCharsets.UTF_8), "features", 3, 42, 1000L);
    }

    FeatureEvent valid(String json) {
        DecodeResult<FeatureEvent> r = decoder.decode(record(json), 77);
        assertThat(r).isInstanceOf(DecodeResult.Valid.class);
        return ((DecodeResult.Valid<FeatureEvent>) r).value();
    }

    DeadLetter rejected(String json, Reason reason) {
        DecodeResult<FeatureEvent> r = decoder.decode(record(json), 77);
        assertThat(r).isInstanceOf(DecodeResult.Rejected.class);
        DeadLetter d = ((DecodeResult.Rejected<FeatureEvent>) r).deadLetter();
        assertThat(d.reason()).isEqualTo(reason);
        assertThat(d.topic()).isEqualTo("features");
        assertThat(d.partition()).isEqualTo(3);
        assertThat(d.offset()).isEqualTo(42);
        assertThat(d.at()).isEqualTo(77);
        assertThat(new String(d.original(), StandardCharsets.UTF_8)).isEqualTo(json);
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
        assertThat(e.ts()).isEqualTo(1000L);
        assertThat(e.segment()).isEmpty();
    }

    @Test
    void shouldRejectEveryKindOfBadInputWithItsReason() {
        assertThat(rejected("{\"event_id\":\"e\",\"unit\":", Reason.MALFORMED).detail())
                .startsWith("invalid JSON");
        assertThat(rejected("[1,2]", Reason.MALFORMED).detail()).isEqualTo("not a JSON object");
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
                        + "1,".repeat(600)
                        + "1]}",
                Reason.OVERSIZE);
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
