package io.canaryflow.operators.judge;

import java.io.Serializable;
import java.util.Locale;

/**
 * A limit the candidate must respect against its control cohort: its {@code metric} may exceed the
 * control's by at most {@code threshold} (an absolute difference of rates).
 *
 * @param critical a failure rolls back at once; otherwise only {@code failLimit} failed windows in
 *     a row do
 * @param tau standard deviation of the mSPRT's mixing distribution: the size of difference the test
 *     is most sensitive to (see {@link MixtureSprt})
 */
public record Guardrail(Metric metric, double threshold, boolean critical, double tau)
        implements Serializable {

    /** What a guardrail compares; both are proportions. */
    public enum Metric {
        /** Failed or timed-out scorings / scoring attempts. */
        INFERENCE_ERROR_RATE,
        /** Misclassified / labelled predictions. */
        LABEL_ERROR_RATE;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Guardrail {
        if (!(threshold >= 0 && threshold < 1)) {
            throw new IllegalArgumentException(
                    metric + ": threshold must be in [0, 1), got " + threshold);
        }
        if (!(tau > 0)) {
            throw new IllegalArgumentException(metric + ": tau must be positive, got " + tau);
        }
    }

    /**
     * Reads {@code metric:threshold[:critical][:tau=T]}; tau defaults to the threshold, at least
     * 0.005.
     */
    public static Guardrail parse(String spec) {
        String[] parts = spec.split(":");
        if (parts.length < 2) {
            throw new IllegalArgumentException(
                    "a guardrail is metric:threshold[:critical][:tau=T], got '" + spec + "'");
        }
        Metric metric;
        try {
            metric = Metric.valueOf(parts[0].trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    "unknown metric '"
                            + parts[0]
                            + "', allowed: inference_error_rate, label_error_rate");
        }
        double threshold = Double.parseDouble(parts[1].trim());
        boolean critical = false;
        double tau = Math.max(threshold, 0.005);
        for (int i = 2; i < parts.length; i++) {
            String p = parts[i].trim();
            if (p.equals("critical")) {
                critical = true;
            } else if (p.startsWith("tau=")) {
                tau = Double.parseDouble(p.substring(4));
            } else {
                throw new IllegalArgumentException("unknown guardrail option '" + p + "'");
            }
        }
        return new Guardrail(metric, threshold, critical, tau);
    }
}
