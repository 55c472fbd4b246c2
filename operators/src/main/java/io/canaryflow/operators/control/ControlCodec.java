package io.canaryflow.operators.control;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.canaryflow.operators.judge.ArmCounts;
import io.canaryflow.operators.judge.Guardrail;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.records.JsonWriter;
import io.canaryflow.operators.routing.RolloutPlan;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The control topic's JSON: commands in (and out, from the command-line tool) and decisions out.
 * Every record has a {@code type}, {@code command} or {@code decision}.
 */
public final class ControlCodec {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper CANONICAL =
            new ObjectMapper().configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private ControlCodec() {}

    /** Thrown for a control record that cannot be read. */
    public static final class MalformedException extends Exception {
        public MalformedException(String message) {
            super(message);
        }
    }

    /** The record's {@code type}, or a MalformedException. */
    public static String type(JsonNode n) throws MalformedException {
        if (n == null || !n.isObject() || !n.path("type").isTextual()) {
            throw new MalformedException("a control record is a JSON object with a 'type'");
        }
        return n.get("type").asText();
    }

    public static JsonNode tree(byte[] bytes) throws MalformedException {
        if (bytes == null) {
            throw new MalformedException("a record without a value (a tombstone)");
        }
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new MalformedException("invalid JSON: " + e.getMessage());
        }
    }

    /** Reads a command, with its plan in canonical form. */
    public static Command command(JsonNode n) throws MalformedException {
        String id = text(n, "command_id");
        String experiment = text(n, "experiment");
        Command.Action action;
        try {
            action = Command.Action.parse(text(n, "action"));
        } catch (IllegalArgumentException e) {
            throw new MalformedException(e.getMessage());
        }
        if (!n.path("issued_at").isIntegralNumber()) {
            throw new MalformedException("'issued_at' must be epoch milliseconds");
        }
        JsonNode plan = n.get("plan");
        String canonicalPlan = null;
        if (plan != null && !plan.isNull()) {
            if (!plan.isObject()) {
                throw new MalformedException("'plan' must be an object");
            }
            canonicalPlan = canonical(plan);
        }
        return new Command(
                id,
                experiment,
                action,
                canonicalPlan,
                n.path("issued_by").isTextual() ? n.get("issued_by").asText() : null,
                n.get("issued_at").asLong(),
                n.path("signature").isTextual() ? n.get("signature").asText() : null);
    }

    /** Object keys sorted at every level, no whitespace: what a plan's signature covers. */
    public static String canonical(JsonNode node) {
        try {
            Object value = CANONICAL.treeToValue(node, Object.class);
            return CANONICAL.writeValueAsString(value);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write a JSON tree", e);
        }
    }

    public static byte[] write(Command c) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", "command");
        n.put("command_id", c.commandId());
        n.put("experiment", c.experiment());
        n.put("action", c.action().name());
        if (c.plan() != null) {
            try {
                n.set("plan", JSON.readTree(c.plan()));
            } catch (IOException e) {
                throw new IllegalArgumentException("the plan is not JSON", e);
            }
        }
        if (c.issuedBy() != null) {
            n.put("issued_by", c.issuedBy());
        }
        n.put("issued_at", c.issuedAt());
        if (c.signature() != null) {
            n.put("signature", c.signature());
        }
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static byte[] write(Decision d, JsonWriter writer) {
        return writer.write(json -> decision(json, d));
    }

    private static void decision(JsonGenerator json, Decision d) throws IOException {
        Verdict v = d.verdict();
        json.writeStartObject();
        json.writeStringField("type", "decision");
        json.writeStringField("decision_id", d.decisionId());
        if (d.previousDecisionId() == null) {
            json.writeNullField("previous_decision_id");
        } else {
            json.writeStringField("previous_decision_id", d.previousDecisionId());
        }
        json.writeStringField("experiment", d.experiment());
        json.writeStringField("action", v.action().name());
        json.writeBooleanField("dry_run", v.dryRun());
        json.writeBooleanField("timed_out", v.timedOut());
        json.writeBooleanField("awaiting_person", v.awaiting());
        json.writeStringField("plan_id_before", d.planBefore().planId());
        json.writeStringField("plan_id", d.plan().planId());
        json.writeStringField("config_hash", d.configHash());
        json.writeNumberField("decided_at", d.decidedAt());
        json.writeObjectFieldStart("step");
        json.writeNumberField("from", v.stepFrom());
        json.writeNumberField("to", v.stepTo());
        json.writeEndObject();
        json.writeObjectFieldStart("window");
        json.writeNumberField("start", v.windowStart());
        json.writeNumberField("end", v.windowEnd());
        json.writeEndObject();
        json.writeObjectFieldStart("arms");
        arm(json, "control", d.planBefore().baseline(), v.control());
        arm(json, "candidate", d.planBefore().candidate(), v.candidate());
        json.writeEndObject();
        json.writeFieldName("plan");
        plan(json, d.plan());
        RolloutPlan p = d.plan();
        json.writeObjectFieldStart("assignment");
        json.writeStringField(
                "hash", "unsigned(first 8 bytes of SHA-256(salt + \".\" + unit)) mod 10000");
        json.writeStringField("salt", p.salt());
        if (p.mode() == RolloutPlan.Mode.CANARY) {
            long buckets =
                    io.canaryflow.operators.routing.Router.candidateBuckets(p.canaryPercent());
            json.writeArrayFieldStart("candidate_buckets");
            json.writeNumber(0);
            json.writeNumber(buckets);
            json.writeEndArray();
            json.writeArrayFieldStart("control_buckets");
            long from = buckets <= 5_000 ? 5_000 : buckets;
            json.writeNumber(from);
            json.writeNumber(buckets <= 5_000 ? 5_000 + buckets : 10_000);
            json.writeEndArray();
        }
        json.writeEndObject();
        if (d.drift() != null) {
            json.writeObjectFieldStart("drift");
            number(json, "score_psi_versus_control", d.drift().scorePsiVersusControl());
            json.writeStringField("score_level", d.drift().scoreLevel());
            if (d.drift().mostDriftedFeature() != null) {
                json.writeStringField("most_drifted_feature", d.drift().mostDriftedFeature());
                number(json, "feature_psi", d.drift().featurePsi());
                json.writeStringField("feature_level", d.drift().featureLevel());
            }
            json.writeEndObject();
        }
        if (v.srm() != null) {
            json.writeObjectFieldStart("health");
            json.writeStringField("test", Verdict.Srm.TEST);
            number(json, "srm_chi2", v.srm().statistic());
            number(json, "srm_p", v.srm().pValue());
            json.writeNumberField("expected_candidate_share", v.srm().expectedCandidateShare());
            json.writeNumberField("observed_control", v.srm().control());
            json.writeNumberField("observed_candidate", v.srm().candidate());
            number(json, "design_effect", v.srm().designEffect());
            json.writeNumberField("observed_control_units", v.srm().controlUnits());
            json.writeNumberField("observed_candidate_units", v.srm().candidateUnits());
            number(json, "srm_units_chi2", v.srm().unitsStatistic());
            number(json, "rollout_srm_p", v.srm().rolloutP());
            json.writeNumberField("rollout_control", v.srm().rolloutControl());
            json.writeNumberField("rollout_candidate", v.srm().rolloutCandidate());
            json.writeNumberField("rollout_control_units", v.srm().rolloutControlUnits());
            json.writeNumberField("rollout_candidate_units", v.srm().rolloutCandidateUnits());
            json.writeEndObject();
        }
        json.writeArrayFieldStart("guardrails");
        for (Verdict.GuardrailResult g : v.guardrails()) {
            json.writeStartObject();
            json.writeStringField("metric", g.guardrail().metric().wireName());
            json.writeStringField("test", g.test());
            json.writeBooleanField("critical", g.guardrail().critical());
            json.writeStringField(
                    "direction",
                    g.guardrail().direction().name().toLowerCase(java.util.Locale.ROOT));
            json.writeNumberField("threshold", g.guardrail().threshold());
            if (g.guardrail().metric() == Guardrail.Metric.LATENCY_P99_RATIO) {
                json.writeNumberField("ratio", g.guardrail().ratio());
            }
            json.writeNumberField("n_control", g.controlN());
            json.writeNumberField("n_candidate", g.candidateN());
            number(json, "baseline", g.controlRate());
            number(json, "candidate", g.candidateRate());
            number(json, "delta", g.delta());
            json.writeArrayFieldStart("interval");
            number(json, g.lower());
            number(json, g.upper());
            json.writeEndArray();
            number(json, "p", g.pValue());
            json.writeStringField("result", g.result().name());
            json.writeStringField("reason", g.reason());
            json.writeEndObject();
        }
        json.writeEndArray();
        json.writeArrayFieldStart("reasons");
        for (String r : v.reasons()) {
            json.writeString(r);
        }
        json.writeEndArray();
        json.writeEndObject();
    }

    private static void arm(JsonGenerator json, String arm, String version, ArmCounts c)
            throws IOException {
        json.writeObjectFieldStart(arm);
        json.writeStringField("version", version);
        json.writeNumberField("n", c.attempts());
        json.writeNumberField("errors", c.errors());
        json.writeNumberField("lost", c.lost());
        json.writeNumberField("labelled", c.labelled());
        json.writeNumberField("label_errors", c.labelErrors());
        json.writeNumberField("scored", c.scored());
        json.writeNumberField("slow", c.slow());
        json.writeEndObject();
    }

    /** A routing plan as JSON. */
    public static void plan(JsonGenerator json, RolloutPlan p) throws IOException {
        json.writeStartObject();
        json.writeStringField("plan_id", p.planId());
        json.writeStringField("experiment", p.experiment());
        json.writeStringField("model", p.model());
        json.writeStringField("mode", p.mode().wireName());
        json.writeStringField("salt", p.salt());
        json.writeStringField("baseline", p.baseline());
        if (p.candidate() != null) {
            json.writeStringField("candidate", p.candidate());
        }
        json.writeNumberField("canary_percent", p.canaryPercent());
        if (!p.variants().isEmpty()) {
            json.writeArrayFieldStart("variants");
            for (RolloutPlan.Variant v : p.variants()) {
                json.writeStartObject();
                json.writeStringField("version", v.version());
                json.writeNumberField("weight", v.weight());
                json.writeEndObject();
            }
            json.writeEndArray();
        }
        json.writeEndObject();
    }

    /** Reads a routing plan written by {@link #plan(JsonGenerator, RolloutPlan)}. */
    public static RolloutPlan plan(JsonNode n) throws MalformedException {
        try {
            List<RolloutPlan.Variant> variants = new ArrayList<>();
            for (JsonNode v : n.path("variants")) {
                variants.add(
                        new RolloutPlan.Variant(text(v, "version"), v.path("weight").asDouble()));
            }
            return new RolloutPlan(
                    text(n, "plan_id"),
                    text(n, "experiment"),
                    text(n, "model"),
                    RolloutPlan.Mode.parse(text(n, "mode")),
                    text(n, "salt"),
                    n.path("baseline").isTextual() ? n.get("baseline").asText() : null,
                    n.path("candidate").isTextual() ? n.get("candidate").asText() : null,
                    n.path("canary_percent").asDouble(),
                    variants);
        } catch (IllegalArgumentException e) {
            throw new MalformedException("plan: " + e.getMessage());
        }
    }

    private static String text(JsonNode n, String field) throws MalformedException {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual() || v.asText().isBlank()) {
            throw new MalformedException("'" + field + "' must be a non-empty string");
        }
        return v.asText();
    }

    private static void number(JsonGenerator json, String name, double v) throws IOException {
        json.writeFieldName(name);
        number(json, v);
    }

    private static void number(JsonGenerator json, double v) throws IOException {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            json.writeNull();
        } else {
            json.writeNumber(v);
        }
    }
}
