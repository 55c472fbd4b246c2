package io.canaryflow.operators.judge;

import java.io.Serializable;
import java.util.Locale;

/**
 * A limit the candidate must respect against its control cohort: its {@code metric} may exceed the
 * control's by at most {@code threshold} (an absolute difference of rates).
 *
 * <p>{@code LATENCY_P99_RATIO} ({@code latency_p99_ratio:R}) bounds the candidate's p99 by R times
 * the control's: the candidate's p99 is at most the cut exactly when at most 1 % of its scorings
 * lie above it, so its share above R × the control's p99 is tested against 1 % (plus the threshold,
 * 0 in that form) with the exact sequential quantile test {@link ExceedanceTest}.
 *
 * @param critical a failure rolls back at once; otherwise only {@code failLimit} failed windows in
 *     a row do
 * @param tau standard deviation of the mSPRT's mixing distribution: the size of difference the test
 *     is most sensitive to (see {@link MixtureSprt})
 * @param margin the non-inferiority margin: PASS needs the confidence sequence's harmful end below
 *     it (at least the threshold; the threshold by default). With a threshold of 0 (any significant
 *     harm fails) a margin above 0 is what lets a candidate as good as its control pass.
 * @param relative threshold and margin are relative to the control's rate ({@code +50%}: the
 *     candidate's rate at most 1.5 × the control's), tested exactly by {@link RateRatioTest}; rates
 *     only
 */
public record Guardrail(
        Metric metric,
        double threshold,
        boolean critical,
        double tau,
        double ratio,
        Direction direction,
        double margin,
        boolean relative)
        implements Serializable {

    /** An absolute guardrail. */
    public Guardrail(
            Metric metric,
            double threshold,
            boolean critical,
            double tau,
            double ratio,
            Direction direction,
            double margin) {
        this(metric, threshold, critical, tau, ratio, direction, margin, false);
    }

    /** A guardrail whose margin is its threshold. */
    public Guardrail(
            Metric metric,
            double threshold,
            boolean critical,
            double tau,
            double ratio,
            Direction direction) {
        this(metric, threshold, critical, tau, ratio, direction, threshold);
    }

    /** Which way a difference harms: the candidate's metric going up, down, or either way. */
    public enum Direction {
        INCREASE,
        DECREASE,
        EITHER
    }

    /** A guardrail on a rate (ratio 1, unused), harmed by an increase. */
    public Guardrail(Metric metric, double threshold, boolean critical, double tau) {
        this(metric, threshold, critical, tau, 1.0, Direction.INCREASE);
    }

    /** The metric's usual direction: either way for the score's shift, else an increase. */
    public static Direction defaultDirection(Metric metric) {
        return metric == Metric.SCORE_SHIFT ? Direction.EITHER : Direction.INCREASE;
    }

    /** What a guardrail compares; both are proportions. */
    public enum Metric {
        /** Failed or timed-out scorings / scoring attempts. */
        INFERENCE_ERROR_RATE,
        /** Misclassified / labelled predictions. */
        LABEL_ERROR_RATE,
        /** Scorings slower than {@code ratio} × the control's p99 / scorings. */
        LATENCY_P99_RATIO,
        /**
         * The mean score: the candidate's may differ from the control's by at most {@code
         * threshold} in either direction (two-sided, unlike the rates).
         */
        SCORE_SHIFT,
        /**
         * Shadow mode: the share of events on which the shadow's decision at the threshold differs
         * from the served baseline's (paired, on the same events); it may be at most {@code
         * threshold}. The control's rate is 0 by definition.
         */
        FLIP_RATE,
        /**
         * The PSI of the candidate's score distribution against the control's, on the shared score
         * bins: a FAIL needs the anytime-valid {@link BinnedMixture} test to reject that the arms'
         * scores fall into bins alike, and the observed PSI to be at least {@code threshold}.
         */
        SCORE_PSI;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public Guardrail {
        if (relative
                && metric != Metric.INFERENCE_ERROR_RATE
                && metric != Metric.LABEL_ERROR_RATE) {
            // the rates counted per unit: elsewhere no design effect could be applied
            throw new IllegalArgumentException(
                    metric
                            + ": relative thresholds are for inference_error_rate and label_error_rate only");
        }
        if (relative && direction != null && direction != Direction.INCREASE) {
            throw new IllegalArgumentException(
                    metric + ": a relative threshold guards an increase only");
        }
        if (!(threshold >= 0 && (threshold < 1 || metric == Metric.SCORE_PSI || relative))) {
            throw new IllegalArgumentException(
                    metric + ": threshold must be in [0, 1), got " + threshold);
        }
        if (!(tau > 0)) {
            throw new IllegalArgumentException(metric + ": tau must be positive, got " + tau);
        }
        if (direction == null) {
            direction = defaultDirection(metric);
        }
        if ((metric == Metric.SCORE_PSI || metric == Metric.FLIP_RATE)
                && direction != Direction.INCREASE) {
            throw new IllegalArgumentException(metric + ": only an increase can be guarded");
        }
        if (!(ratio > 0)) {
            throw new IllegalArgumentException(metric + ": ratio must be positive, got " + ratio);
        }
        if (!(margin >= threshold && (margin < 1 || metric == Metric.SCORE_PSI || relative))) {
            throw new IllegalArgumentException(
                    metric
                            + ": margin must be at least the threshold "
                            + threshold
                            + " (and below 1), got "
                            + margin);
        }
    }

    /**
     * Reads {@code metric:threshold[:critical][:tau=T][:ratio=R][:margin=M]}; tau defaults to the
     * threshold, at least 0.005; ratio (latency only) to 1.5; margin to the threshold. A threshold
     * written as a percentage ({@code +50%}) is relative to the control's rate, and so is its
     * margin ({@code margin=+60%}).
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
                            + "', allowed: inference_error_rate, label_error_rate, latency_p99_ratio, score_shift, flip_rate, score_psi");
        }
        String limit = parts[1].trim();
        boolean relative = limit.endsWith("%");
        double threshold = percentOrNumber(limit);
        double ratio = metric == Metric.LATENCY_P99_RATIO ? 1.5 : 1.0;
        if (metric == Metric.LATENCY_P99_RATIO && !relative && threshold >= 1) {
            // latency_p99_ratio:R - the candidate's p99 at most R times the control's
            ratio = threshold;
            threshold = 0;
        }
        boolean critical = false;
        double tau = Math.max(threshold, 0.005);
        Direction direction = defaultDirection(metric);
        double margin = threshold;
        boolean tauSet = false;
        for (int i = 2; i < parts.length; i++) {
            String p = parts[i].trim();
            if (p.equals("critical")) {
                critical = true;
            } else if (p.startsWith("tau=")) {
                tau = Double.parseDouble(p.substring(4));
                tauSet = true;
            } else if (p.equals("increase") || p.equals("decrease") || p.equals("either")) {
                direction = Direction.valueOf(p.toUpperCase(Locale.ROOT));
            } else if (p.startsWith("ratio=") && metric == Metric.LATENCY_P99_RATIO) {
                ratio = Double.parseDouble(p.substring(6));
            } else if (p.startsWith("margin=")) {
                String m = p.substring(7).trim();
                if (m.endsWith("%") != relative) {
                    throw new IllegalArgumentException(
                            "a margin is relative (in %) exactly when its threshold is, got '"
                                    + p
                                    + "'");
                }
                margin = percentOrNumber(m);
            } else {
                throw new IllegalArgumentException("unknown guardrail option '" + p + "'");
            }
        }
        if (relative && !tauSet) {
            tau = 0.005; // unused: a relative guardrail's test has no mixing variance
        }
        return new Guardrail(metric, threshold, critical, tau, ratio, direction, margin, relative);
    }

    /** The spec {@link #parse} reads back as this guardrail. */
    public String spec() {
        StringBuilder s = new StringBuilder(metric.wireName()).append(':');
        s.append(relative ? percent(threshold) : Double.toString(threshold));
        if (critical) {
            s.append(":critical");
        }
        s.append(":tau=").append(tau);
        if (metric == Metric.LATENCY_P99_RATIO) {
            s.append(":ratio=").append(ratio);
        }
        s.append(':').append(direction.name().toLowerCase(Locale.ROOT));
        s.append(":margin=").append(relative ? percent(margin) : Double.toString(margin));
        return s.toString();
    }

    /** "0.01", or "+50%" as 0.5 (decimally: "+30%" is exactly the double 0.3). */
    private static double percentOrNumber(String s) {
        if (s.endsWith("%")) {
            String number = s.substring(0, s.length() - 1).trim();
            return new java.math.BigDecimal(number.startsWith("+") ? number.substring(1) : number)
                    .movePointLeft(2)
                    .doubleValue();
        }
        return Double.parseDouble(s);
    }

    /** 0.5 as "+50%", read back exactly. */
    private static String percent(double fraction) {
        return "+" + java.math.BigDecimal.valueOf(fraction).movePointRight(2).toPlainString() + "%";
    }
}
