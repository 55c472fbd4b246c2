package io.canaryflow.operators.decode;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import io.canaryflow.operators.units.LabelSampling;
import io.canaryflow.operators.units.UnitSketch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** Label records: the optional unit, and the labels of units not sampled dropped as read. */
class LabelDecoderTest {
    final LabelDecoder decoder = new LabelDecoder(65_536);

    static SourceRecord record(String json) {
        return new SourceRecord(
                null,
                json.getBytes(StandardCharsets.UTF_8),
                "labels",
                1,
                7,
                FeatureEventDecoderTest.RECORD_TS);
    }

    DecodeResult<Label> decode(String json) {
        return decoder.decode(record(json), 77);
    }

    @Test
    void shouldReadTheOptionalUnitAndRejectOneThatIsNotAString() {
        Label withUnit =
                ((DecodeResult.Valid<Label>)
                                decode(
                                        "{\"event_id\":\"e-1\",\"label\":1,\"ts\":1732345678901,\"unit\":\"user-42\"}"))
                        .value();
        assertThat(withUnit.unit()).isEqualTo(UnitSketch.hash("user-42"));
        assertThat(withUnit.label()).isEqualTo(1.0);
        assertThat(
                        ((DecodeResult.Valid<Label>)
                                        decode(
                                                "{\"event_id\":\"e-1\",\"label\":true,\"unit\":null}"))
                                .value()
                                .unit())
                .isZero();
        for (String bad : List.of("42", "\"\"", "{}", "[\"u\"]")) {
            DecodeResult<Label> r =
                    decode("{\"event_id\":\"e-1\",\"label\":1,\"unit\":" + bad + "}");
            assertThat(r).as(bad).isInstanceOf(DecodeResult.Rejected.class);
            DeadLetter d = ((DecodeResult.Rejected<Label>) r).deadLetter();
            assertThat(d.reason()).isEqualTo(Reason.MALFORMED);
            assertThat(d.detail()).contains("'unit' must be a non-empty string");
        }
    }

    /**
     * At a sample rate below 1, a label naming an unsampled unit is dropped (its prediction does
     * not wait either); one naming a sampled unit, or none, goes on.
     */
    @Test
    void shouldDropTheLabelsOfUnitsNotSampled() throws Exception {
        LabelSampling sampling = LabelSampling.of(0.5, "labels");
        String sampled = null;
        String unsampled = null;
        for (int i = 0; sampled == null || unsampled == null; i++) {
            String unit = "user-" + i;
            if (sampling.sampled(UnitSketch.hash(unit))) {
                sampled = unit;
            } else {
                unsampled = unit;
            }
        }
        try (OneInputStreamOperatorTestHarness<Decoded, Label> h =
                new OneInputStreamOperatorTestHarness<>(
                        new ProcessOperator<>(new LabelDecodeFunction(sampling)))) {
            h.open();
            for (String json :
                    List.of(
                            "{\"event_id\":\"a\",\"label\":1,\"unit\":\"" + sampled + "\"}",
                            "{\"event_id\":\"b\",\"label\":1,\"unit\":\"" + unsampled + "\"}",
                            "{\"event_id\":\"c\",\"label\":1}")) {
                h.processElement(decoder.read(record(json), 0), 0);
            }
            List<String> ids = new ArrayList<>();
            for (Label l : h.extractOutputValues()) {
                ids.add(l.eventId());
            }
            assertThat(ids).containsExactly("a", "c");
        }
    }
}
