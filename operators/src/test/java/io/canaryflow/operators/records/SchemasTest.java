package io.canaryflow.operators.records;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SchemasTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldWritePredictionWireFormat() throws Exception {
        Prediction p =
                new Prediction(
                        "e-1",
                        "user-42",
                        "fraud",
                        "fraud",
                        "v2",
                        Arm.CANDIDATE,
                        true,
                        0.25f,
                        new float[] {0.75f, 0.25f},
                        1000L,
                        1005L,
                        321L,
                        "plan-1",
                        17,
                        null,
                        null,
                        null,
                        null);
        JsonNode n = JSON.readTree(new PredictionSchema().serialize(p));
        assertThat(n.get("event_id").asText()).isEqualTo("e-1");
        assertThat(n.get("arm").asText()).isEqualTo("candidate");
        assertThat(n.get("served").asBoolean()).isTrue();
        assertThat(n.get("score").floatValue()).isEqualTo(0.25f);
        assertThat(n.get("outputs").get(0).floatValue()).isEqualTo(0.75f);
        assertThat(n.get("latency_us").asLong()).isEqualTo(321L);
        assertThat(n.get("plan_id").asText()).isEqualTo("plan-1");
        assertThat(n.has("fallback_from")).isFalse();
    }

    @Test
    void shouldWriteDeadLetterWithOriginalBytesInBase64() throws Exception {
        byte[] original = "{oops".getBytes(StandardCharsets.UTF_8);
        DeadLetter d =
                new DeadLetter(
                        Reason.MALFORMED,
                        "invalid JSON",
                        "features",
                        2,
                        99,
                        null,
                        null,
                        original,
                        5L);
        JsonNode n = JSON.readTree(new DeadLetterSchema().serialize(d));
        assertThat(n.get("reason").asText()).isEqualTo("MALFORMED");
        assertThat(n.get("source").get("offset").asLong()).isEqualTo(99);
        assertThat(n.get("event_id").isNull()).isTrue();
        assertThat(Base64.getDecoder().decode(n.get("original_base64").asText()))
                .isEqualTo(original);
    }
}
