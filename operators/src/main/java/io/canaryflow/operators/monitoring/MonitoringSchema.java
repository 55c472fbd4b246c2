package io.canaryflow.operators.monitoring;

import com.fasterxml.jackson.core.JsonGenerator;
import io.canaryflow.operators.drift.DriftMeasures;
import io.canaryflow.operators.records.JsonWriter;
import java.io.IOException;
import org.apache.flink.api.common.serialization.SerializationSchema;

/** Writes a {@link MonitoringRecord} as the {@code monitoring} topic's JSON. */
public final class MonitoringSchema implements SerializationSchema<MonitoringRecord> {
    private static final long serialVersionUID = 1L;
    private transient JsonWriter writer;

    @Override
    public byte[] serialize(MonitoringRecord r) {
        if (writer == null) {
            writer = new JsonWriter();
        }
        return writer.write(json -> write(json, r));
    }

    private static void write(JsonGenerator json, MonitoringRecord r) throws IOException {
        json.writeStartObject();
        json.writeStringField("experiment", r.experiment());
        json.writeStringField("model", r.model());
        json.writeStringField("version", r.version());
        json.writeStringField("arm", r.arm());
        json.writeNumberField("window_start", r.windowStart());
        json.writeNumberField("window_end", r.windowEnd());
        json.writeNumberField("n", r.count());
        json.writeNumberField("reported_at", r.reportedAt());
        json.writeObjectFieldStart("features");
        for (int i = 0; i < r.featureNames().length; i++) {
            json.writeFieldName(r.featureNames()[i]);
            drift(json, r.featureDrift()[i]);
        }
        json.writeEndObject();
        if (r.scoreDrift() != null) {
            json.writeFieldName("score");
            drift(json, r.scoreDrift());
        }
        json.writeObjectFieldStart("latency_us");
        number(json, "p50", r.latencyP50Us());
        number(json, "p95", r.latencyP95Us());
        number(json, "p99", r.latencyP99Us());
        json.writeStringField("accuracy", "nearest-rank, within 1/256 relative");
        json.writeEndObject();
        DriftMeasures.Thresholds t = r.thresholds();
        json.writeObjectFieldStart("thresholds");
        json.writeNumberField("psi_warn", t.warn());
        json.writeNumberField("psi_alert", t.alert());
        json.writeNumberField("min_count", t.minCount());
        json.writeNumberField("psi_epsilon", t.epsilon());
        json.writeEndObject();
        json.writeEndObject();
    }

    private static void drift(JsonGenerator json, DriftMeasures.Result d) throws IOException {
        json.writeStartObject();
        json.writeNumberField("n", d.n());
        json.writeNumberField("non_finite", d.nonFinite());
        json.writeStringField("level", d.level().name());
        if (!d.insufficient()) {
            json.writeNumberField("psi", d.psi());
            json.writeNumberField("psi_empty_bins", d.psiEmptyBins());
            json.writeNumberField("ks", d.ksStatistic());
            json.writeNumberField("ks_p", d.ksPValue());
            json.writeStringField(
                    "ks_method", "binned at reference edges (lower bound of D), asymptotic p");
            json.writeNumberField("js", d.jensenShannon());
        }
        json.writeEndObject();
    }

    private static void number(JsonGenerator json, String name, double v) throws IOException {
        if (Double.isNaN(v)) {
            json.writeNullField(name);
        } else {
            json.writeNumberField(name, v);
        }
    }
}
