package io.canaryflow.operators.monitoring;

import com.fasterxml.jackson.core.JsonGenerator;
import io.canaryflow.operators.drift.DriftMeasures;
import io.canaryflow.operators.records.JsonWriter;
import io.canaryflow.operators.records.ScoringFailure;
import java.io.IOException;
import org.apache.flink.api.common.serialization.SerializationSchema;

/** Writes a {@link MonitoringRecord} as the {@code monitoring} topic's JSON (see the README). */
public final class MonitoringSchema implements SerializationSchema<MonitoringRecord> {
    private static final long serialVersionUID = 1L;
    private transient JsonWriter writer;

    @Override
    public byte[] serialize(MonitoringRecord r) {
        if (r.labelsMark()) {
            throw new IllegalArgumentException(
                    "a labels-through mark is for the judge, not the monitoring topic");
        }
        if (writer == null) {
            writer = new JsonWriter();
        }
        return writer.write(json -> write(json, r));
    }

    private static void write(JsonGenerator json, MonitoringRecord r) throws IOException {
        json.writeStartObject();
        if (r.labelReport()) {
            json.writeStringField("report", "labels");
            json.writeStringField("experiment", r.experiment());
            json.writeStringField("model", r.model());
            json.writeStringField("version", r.version());
            json.writeStringField("arm", r.arm());
            json.writeNumberField("window_start", r.windowStart());
            json.writeNumberField("window_end", r.windowEnd());
            json.writeNumberField("reported_at", r.reportedAt());
            labels(json, r.labels());
            thresholds(json, r.settings());
            json.writeEndObject();
            return;
        }
        json.writeStringField("report", "window");
        json.writeStringField("experiment", r.experiment());
        json.writeStringField("model", r.model());
        json.writeStringField("version", r.version());
        json.writeStringField("arm", r.arm());
        json.writeNumberField("window_start", r.windowStart());
        json.writeNumberField("window_end", r.windowEnd());
        json.writeNumberField("n", r.count());
        json.writeNumberField("late", r.late());
        json.writeNumberField("units", r.activeUnits());
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
        if (r.scoreVersusArm() != null) {
            json.writeObjectFieldStart("score_versus_arm");
            json.writeStringField("arm", r.comparedArm());
            json.writeFieldName("drift");
            drift(json, r.scoreVersusArm());
            json.writeEndObject();
        }
        json.writeObjectFieldStart("latency_us");
        number(json, "p50", r.latencyP50Us());
        number(json, "p95", r.latencyP95Us());
        number(json, "p99", r.latencyP99Us());
        json.writeStringField("level", r.latencyLevel().name());
        json.writeStringField("accuracy", "nearest-rank, within 1/256 relative");
        json.writeEndObject();
        errors(json, r.errors());
        if (r.labels() != null) {
            labels(json, r.labels());
        }
        if (r.paired() != null) {
            MonitoringRecord.Paired p = r.paired();
            json.writeObjectFieldStart("paired");
            json.writeStringField("against", "served baseline, same events");
            json.writeNumberField("pairs", p.pairs());
            json.writeNumberField("flips_up", p.flipsUp());
            json.writeNumberField("flips_down", p.flipsDown());
            number(json, "flip_rate", p.flipRate());
            number(json, "agreement", 1 - p.flipRate());
            number(json, "mean_delta", p.meanDelta());
            number(json, "sd_delta", p.sdDelta());
            number(json, "mcnemar_chi2", p.mcNemar().statistic());
            number(json, "mcnemar_p", p.mcNemar().pValue());
            number(json, "wilcoxon_w_plus", p.wilcoxon().statistic());
            number(json, "wilcoxon_p", p.wilcoxon().pValue());
            json.writeNumberField("wilcoxon_n", p.wilcoxon().n());
            json.writeEndObject();
        }
        json.writeArrayFieldStart("segments");
        for (MonitoringRecord.SegmentDrift s : r.segments()) {
            json.writeStartObject();
            json.writeStringField("segment", s.segment());
            json.writeStringField("quantity", s.quantity());
            json.writeStringField("level", s.level().name());
            json.writeBooleanField("discovery", s.discovery());
            number(json, "bh_adjusted_p", s.adjustedP());
            json.writeFieldName("drift");
            drift(json, s.drift());
            json.writeEndObject();
        }
        json.writeEndArray();
        thresholds(json, r.settings());
        json.writeEndObject();
    }

    private static void errors(JsonGenerator json, MonitoringRecord.Errors e) throws IOException {
        json.writeObjectFieldStart("errors");
        json.writeNumberField("attempts", e.attempts());
        for (ScoringFailure f : ScoringFailure.values()) {
            json.writeNumberField(f.wireName(), e.failures()[f.ordinal()]);
        }
        json.writeNumberField("timeout", e.timeouts());
        if (e.routed() >= 0) {
            json.writeNumberField("routed", e.routed());
            json.writeNumberField("lost", e.lost());
        }
        number(json, "rate", e.rate());
        json.writeStringField("level", e.level().name());
        json.writeEndObject();
    }

    private static void labels(JsonGenerator json, MonitoringRecord.Labels l) throws IOException {
        json.writeObjectFieldStart("labels");
        json.writeStringField("kind", l.kind());
        json.writeNumberField("opened", l.opened());
        json.writeNumberField("joined", l.joined());
        json.writeNumberField("pending", l.pending());
        json.writeNumberField("expired", l.expired());
        json.writeNumberField("late", l.late());
        if ("classifier".equals(l.kind())) {
            json.writeNumberField("misclassified", l.misclassified());
            number(json, "error_rate", l.errorRate());
            number(json, "log_loss", l.logLoss());
        }
        number(json, "mae", l.mae());
        json.writeStringField("level", l.level().name());
        json.writeEndObject();
    }

    private static void thresholds(JsonGenerator json, MonitorSettings s) throws IOException {
        DriftMeasures.Thresholds t = s.drift();
        json.writeObjectFieldStart("thresholds");
        json.writeNumberField("psi_warn", t.warn());
        json.writeNumberField("psi_alert", t.alert());
        json.writeNumberField("min_count", t.minCount());
        json.writeNumberField("psi_epsilon", t.epsilon());
        json.writeNumberField("error_rate_warn", s.errorRate().warn());
        json.writeNumberField("error_rate_alert", s.errorRate().alert());
        json.writeNumberField("timeout_us", s.timeoutMicros());
        json.writeNumberField("latency_p99_warn_us", s.latencyP99Micros().warn());
        json.writeNumberField("latency_p99_alert_us", s.latencyP99Micros().alert());
        json.writeNumberField("label_error_warn", s.labelError().warn());
        json.writeNumberField("label_error_alert", s.labelError().alert());
        json.writeNumberField("label_threshold", s.labelThreshold());
        json.writeNumberField("false_discovery_rate", s.falseDiscoveryRate());
        json.writeNumberField("sample_rate", s.sampleRate());
        json.writeNumberField("label_sample_rate", s.labelSampleRate());
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
            if (d.categorical()) {
                number(json, "chi2", d.chiSquare());
                json.writeNumberField("chi2_df", d.chiSquareDf());
                number(json, "chi2_p", d.chiSquarePValue());
                json.writeStringField("test", "chi-square homogeneity of category counts");
            } else {
                json.writeNumberField("ks", d.ksStatistic());
                json.writeNumberField("ks_upper", d.ksUpperBound());
                json.writeNumberField("ks_p", d.ksPValue());
                json.writeStringField(
                        "test",
                        "KS at the reference bin edges: exact D within [ks, ks_upper]; asymptotic p of ks");
            }
            json.writeNumberField("js", d.jensenShannon());
        }
        json.writeEndObject();
    }

    private static void number(JsonGenerator json, String name, double v) throws IOException {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            json.writeNullField(name);
        } else {
            json.writeNumberField(name, v);
        }
    }
}
