package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.drift.DriftMeasures;
import java.io.Serializable;
import java.util.List;

/**
 * How monitoring aggregates and judges, shared by its operators.
 *
 * @param windowMillis length of the event-time windows
 * @param slideMillis how often a window starts: {@code windowMillis} for tumbling windows, a
 *     divisor of it for sliding ones (each report then covers {@code windowMillis / slideMillis}
 *     buckets of {@code slideMillis}, which the first stages pre-aggregate)
 * @param sampleRate share of predictions, in (0, 1], whose features enter the drift histograms
 * @param timeoutMicros a prediction whose scoring latency exceeds this counts as a timeout, an
 *     inference error of its version
 * @param drift PSI thresholds, minimum count and ε
 * @param errorRate inference error rate levels (share of scoring attempts that failed or timed out)
 * @param latencyP99Micros p99 scoring latency levels
 * @param labelError label-based error levels: misclassification rate for classifiers, MAE for
 *     regressors
 * @param labelThreshold a classifier's score at or above it predicts the positive class
 * @param segmentFields the event {@code segment} fields drift is also measured per value of
 * @param maxSegmentValues distinct values per segment field and window a subtask tracks; further
 *     values are counted under {@link #OTHER_SEGMENT}
 * @param falseDiscoveryRate Benjamini-Hochberg q across the features × segments of a window
 * @param labelSampleRate the share of units whose predictions wait for labels ({@code
 *     labels.sample-rate}): label reports count the sampled units' outcomes
 */
public record MonitorSettings(
        long windowMillis,
        long slideMillis,
        double sampleRate,
        long timeoutMicros,
        DriftMeasures.Thresholds drift,
        Levels errorRate,
        Levels latencyP99Micros,
        Levels labelError,
        double labelThreshold,
        List<String> segmentFields,
        int maxSegmentValues,
        double falseDiscoveryRate,
        double labelSampleRate)
        implements Serializable {

    /** The segment value standing for every value beyond {@code maxSegmentValues}. */
    public static final String OTHER_SEGMENT = "__other__";

    /** A measure at or above {@code warn} warns, at or above {@code alert} alerts. */
    public record Levels(double warn, double alert) implements Serializable {
        public Levels {
            if (!(warn >= 0 && alert >= warn)) {
                throw new IllegalArgumentException(
                        String.format("need 0 <= warn <= alert, got %s and %s", warn, alert));
            }
        }

        public DriftMeasures.Level of(double value) {
            return value >= alert
                    ? DriftMeasures.Level.ALERT
                    : value >= warn ? DriftMeasures.Level.WARN : DriftMeasures.Level.OK;
        }
    }

    public MonitorSettings {
        if (windowMillis < 1) {
            throw new IllegalArgumentException("window must be at least 1 ms, got " + windowMillis);
        }
        if (slideMillis < 1 || slideMillis > windowMillis || windowMillis % slideMillis != 0) {
            throw new IllegalArgumentException(
                    String.format(
                            "the slide must divide the window, got window %d ms, slide %d ms",
                            windowMillis, slideMillis));
        }
        if (!(sampleRate > 0 && sampleRate <= 1)) {
            throw new IllegalArgumentException("sample rate must be in (0, 1], got " + sampleRate);
        }
        if (timeoutMicros < 1) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeoutMicros);
        }
        if (!(falseDiscoveryRate > 0 && falseDiscoveryRate < 1)) {
            throw new IllegalArgumentException(
                    "false discovery rate must be in (0, 1), got " + falseDiscoveryRate);
        }
        if (maxSegmentValues < 1) {
            throw new IllegalArgumentException(
                    "max segment values must be >= 1, got " + maxSegmentValues);
        }
        if (!(labelSampleRate > 0 && labelSampleRate <= 1)) {
            throw new IllegalArgumentException(
                    "label sample rate must be in (0, 1], got " + labelSampleRate);
        }
        segmentFields = List.copyOf(segmentFields);
    }

    /** Settings where every unit's predictions wait for labels. */
    public MonitorSettings(
            long windowMillis,
            long slideMillis,
            double sampleRate,
            long timeoutMicros,
            DriftMeasures.Thresholds drift,
            Levels errorRate,
            Levels latencyP99Micros,
            Levels labelError,
            double labelThreshold,
            List<String> segmentFields,
            int maxSegmentValues,
            double falseDiscoveryRate) {
        this(
                windowMillis,
                slideMillis,
                sampleRate,
                timeoutMicros,
                drift,
                errorRate,
                latencyP99Micros,
                labelError,
                labelThreshold,
                segmentFields,
                maxSegmentValues,
                falseDiscoveryRate,
                1.0);
    }

    /** A copy where the share {@code rate} of units waits for labels. */
    public MonitorSettings withLabelSampleRate(double rate) {
        return new MonitorSettings(
                windowMillis,
                slideMillis,
                sampleRate,
                timeoutMicros,
                drift,
                errorRate,
                latencyP99Micros,
                labelError,
                labelThreshold,
                segmentFields,
                maxSegmentValues,
                falseDiscoveryRate,
                rate);
    }

    /**
     * Defaults for a window length: sample everything, 1 s timeout, {@link
     * DriftMeasures.Thresholds#defaults()}, error rate 1 % / 5 %, p99 50 / 200 ms, label error 0.25
     * / 0.4 at threshold 0.5, no segments, q = 0.05.
     */
    public static MonitorSettings defaults(long windowMillis) {
        return new MonitorSettings(
                windowMillis,
                windowMillis,
                1.0,
                1_000_000,
                DriftMeasures.Thresholds.defaults(),
                new Levels(0.01, 0.05),
                new Levels(50_000, 200_000),
                new Levels(0.25, 0.4),
                0.5,
                List.of(),
                20,
                0.05);
    }

    /** Whether windows slide (overlap) rather than tumble. */
    public boolean sliding() {
        return slideMillis != windowMillis;
    }

    /** A copy with windows of the same length starting every {@code slide} ms. */
    public MonitorSettings withSlide(long slide) {
        return new MonitorSettings(
                windowMillis,
                slide,
                sampleRate,
                timeoutMicros,
                drift,
                errorRate,
                latencyP99Micros,
                labelError,
                labelThreshold,
                segmentFields,
                maxSegmentValues,
                falseDiscoveryRate,
                labelSampleRate);
    }

    /** A copy with other drift thresholds. */
    public MonitorSettings withDrift(DriftMeasures.Thresholds t) {
        return new MonitorSettings(
                windowMillis,
                slideMillis,
                sampleRate,
                timeoutMicros,
                t,
                errorRate,
                latencyP99Micros,
                labelError,
                labelThreshold,
                segmentFields,
                maxSegmentValues,
                falseDiscoveryRate,
                labelSampleRate);
    }

    /** A copy measuring drift per value of {@code fields} as well. */
    public MonitorSettings withSegments(List<String> fields, int maxValues) {
        return new MonitorSettings(
                windowMillis,
                slideMillis,
                sampleRate,
                timeoutMicros,
                drift,
                errorRate,
                latencyP99Micros,
                labelError,
                labelThreshold,
                fields,
                maxValues,
                falseDiscoveryRate,
                labelSampleRate);
    }
}
