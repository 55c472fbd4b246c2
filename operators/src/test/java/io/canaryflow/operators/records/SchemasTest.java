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
        JsonNode n = JSON.readTree(new DeadLetterSchema(65_536).serialize(d));
        assertThat(n.get("reason").asText()).isEqualTo("MALFORMED");
        assertThat(n.get("source").get("offset").asLong()).isEqualTo(99);
        assertThat(n.get("event_id").isNull()).isTrue();
        assertThat(Base64.getDecoder().decode(n.get("original_base64").asText()))
                .isEqualTo(original);
    }

    @Test
    void shouldBoundADeadLetterWhateverItsInputKeepingTheFullLengthAndHashOfTheOriginal()
            throws Exception {
        byte[] original = new byte[1_000_000];
        new java.util.Random(3).nextBytes(original);
        String huge = "x".repeat(900_000);
        DeadLetter d =
                new DeadLetter(Reason.OVERSIZE, huge, "features", 0, 1, huge, huge, original, 5L);
        byte[] bytes = new DeadLetterSchema(4_096).serialize(d);
        assertThat(bytes.length).isLessThan(4_096 * 4 / 3 + 16 * 1_024);
        JsonNode n = JSON.readTree(bytes);
        assertThat(Base64.getDecoder().decode(n.get("original_base64").asText()))
                .isEqualTo(java.util.Arrays.copyOf(original, 4_096));
        assertThat(n.get("original_bytes").asLong()).isEqualTo(1_000_000);
        assertThat(n.get("original_truncated").asBoolean()).isTrue();
        // an independent SHA-256 of the whole original
        assertThat(n.get("original_sha256").asText())
                .isEqualTo(
                        java.util.HexFormat.of()
                                .formatHex(
                                        java.security.MessageDigest.getInstance("SHA-256")
                                                .digest(original)));
        assertThat(n.get("event_id").asText())
                .hasSize(DeadLetterSchema.MAX_STRING_CHARS + " (900000 characters)".length() + 3)
                .endsWith("... (900000 characters)");
        assertThat(n.get("detail").asText()).endsWith("... (900000 characters)");

        JsonNode small =
                JSON.readTree(
                        new DeadLetterSchema(4_096)
                                .serialize(
                                        new DeadLetter(
                                                Reason.MALFORMED,
                                                "d",
                                                "t",
                                                0,
                                                1,
                                                null,
                                                null,
                                                new byte[] {1, 2},
                                                5L)));
        assertThat(small.get("original_truncated").asBoolean()).isFalse();
        assertThat(small.get("original_bytes").asLong()).isEqualTo(2);
    }
}
