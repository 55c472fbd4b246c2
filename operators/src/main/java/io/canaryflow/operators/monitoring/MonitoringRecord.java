package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.drift.DriftMeasures;
import io.canaryflow.operators.units.LatencySketch;
import io.canaryflow.operators.units.UnitSketch;

/**
 * What the monitor reports for one (experiment, version, arm, event-time window).
 *
 * @param count predictions scored in the window
 * @param late predictions and scoring failures of this version and arm whose own window had already
 *     closed when they came (see {@link WindowPartial#late()}), counted here, in the first window
 *     still open, and in nothing else
 * @param featureNames features with a reference in the version's manifest, schema order
 * @param featureDrift drift of each of {@code featureNames} against its reference
 * @param scoreDrift drift of the score against the manifest's reference score distribution
 * @param scoreVersusArm drift of the score against the arm it is compared with in the same window
 *     (a candidate against the control cohort, a shadow against the served baseline), on the
 *     experiment's shared score bins; null for arms that are not compared or when that arm saw
 *     nothing in the window
 * @param comparedArm the arm {@code scoreVersusArm} compares with, {@code control} or {@code
 *     baseline}; null with it
 * @param latencyP50Us nearest-rank scoring latency percentiles, within 1/256 (see {@code
 *     LatencyHistogram}); NaN for an empty window
 * @param latencyLevel the p99 against its levels
 * @param latency the window's latency histogram, for the judge's latency guardrail (not written to
 *     the topic)
 * @param errors inference errors of the version in this arm; null in a label report
 * @param labels label outcomes known in this window, in a label report ({@link #labelReport()});
 *     null in a window report
 * @param segments drift per segment value and quantity, with Benjamini-Hochberg control
 * @param paired a shadow series' paired comparison with the served baseline, else null
 * @param settings the settings, and so the thresholds, in force
 * @param reportedAt processing time of the report, epoch milliseconds (also its Kafka timestamp:
 *     window times are event times, which broker time retention must not see)
 * @param activeUnits units with an attempt in the window (see {@link WindowPartial})
 * @param labelUnits per-unit totals of the window's joined labels (as attempts) and misclassified
 *     ones (as errors), for the label error rate's unit-level variance; null when unknown
 * @param units per-unit totals of the window's attempts, errors and scores, for the judge's
 *     unit-level variances (not written to the topic); null when none were counted
 * @param latencyUnits the window's latencies per unit, for the latency guardrail's unit-level
 *     variance (not written to the topic); null when none were counted
 * @param pairUnits a shadow series' per-unit pairs (as attempts) and flips (as errors), for the
 *     flip rate's unit-level variance (not written to the topic); null when unknown
 */
public record MonitoringRecord(
        String experiment,
        String model,
        String version,
        String arm,
        long windowStart,
        long windowEnd,
        long count,
        long late,
        String[] featureNames,
        DriftMeasures.Result[] featureDrift,
        DriftMeasures.Result scoreDrift,
        DriftMeasures.Result scoreVersusArm,
        String comparedArm,
        double latencyP50Us,
        double latencyP95Us,
        double latencyP99Us,
        DriftMeasures.Level latencyLevel,
        io.canaryflow.operators.latency.LatencyHistogram.Sparse latency,
        double[] scoreMoments,
        long[] sharedScoreCounts,
        Errors errors,
        Labels labels,
        SegmentDrift[] segments,
        Paired paired,
        MonitorSettings settings,
        long reportedAt,
        long activeUnits,
        UnitSketch units,
        UnitSketch labelUnits,
        LatencySketch latencyUnits,
        UnitSketch pairUnits) {

    /**
     * Whether this is a <em>label report</em>: the label outcomes of one series and window alone,
     * emitted on the label join's time after the window report of drift, errors and latency (which
     * never waits for labels). It has {@code labels} and {@code labelUnits}; no counts, drift,
     * latency or {@code errors}.
     */
    public boolean labelReport() {
        return errors == null && labels != null;
    }

    /**
     * A mark that an experiment's label reports are complete through {@code end}: the label merge
     * sends one per experiment each time the label join's time passes a window, after that window's
     * label reports, so that a judge of label outcomes knows when it has them all. Not written to
     * the monitoring topic.
     */
    public static MonitoringRecord labelsThrough(String experiment, long end) {
        return labelsOnly(experiment, null, null, null, end, end, null, null, 0, null);
    }

    /**
     * A record of one series and window with label outcomes alone (a label report, or with null
     * {@code labels} a {@link #labelsThrough} mark): no counts, drift, latency or errors.
     */
    public static MonitoringRecord labelsOnly(
            String experiment,
            String model,
            String version,
            String arm,
            long windowStart,
            long windowEnd,
            Labels labels,
            MonitorSettings settings,
            long reportedAt,
            UnitSketch labelUnits) {
        return new MonitoringRecord(
                experiment,
                model,
                version,
                arm,
                windowStart,
                windowEnd,
                0,
                0,
                new String[0],
                new DriftMeasures.Result[0],
                null,
                null,
                null,
                Double.NaN,
                Double.NaN,
                Double.NaN,
                DriftMeasures.Level.INSUFFICIENT,
                null,
                null,
                null,
                null,
                labels,
                new SegmentDrift[0],
                null,
                settings,
                reportedAt,
                0,
                null,
                labelUnits,
                null,
                null);
    }

    /** Whether this is a {@link #labelsThrough} mark rather than a report. */
    public boolean labelsMark() {
        return errors == null && labels == null;
    }

    /**
     * Inference errors: scoring attempts that failed, by kind, and predictions later than the
     * timeout.
     *
     * @param attempts predictions plus failures
     * @param failures by {@link io.canaryflow.operators.records.ScoringFailure} ordinal
     * @param rate (failures + timeouts) / attempts; NaN with no attempts
     * @param routed the events routing sent to the series in the window, counted by the route
     *     operator before scoring; attempts short of it were lost on the way. -1 when routing is
     *     not counted (a job without control)
     */
    public record Errors(
            long attempts,
            long[] failures,
            long timeouts,
            double rate,
            DriftMeasures.Level level,
            long routed) {

        /** Errors with routing not counted. */
        public Errors(
                long attempts,
                long[] failures,
                long timeouts,
                double rate,
                DriftMeasures.Level level) {
            this(attempts, failures, timeouts, rate, level, -1);
        }

        /** Routed events never reported as a prediction or an inference error (0 when unknown). */
        public long lost() {
            return routed < 0 ? 0 : Math.max(0, routed - attempts);
        }
    }

    /**
     * Label outcomes that became known in this window (see {@link LabelPartial}).
     *
     * @param kind {@code classifier} or {@code regressor}: which of the error measures applies
     * @param pending predictions of this version and arm still waiting for a label at the window's
     *     end, their horizon not yet passed
     * @param misclassified joined predictions on the wrong side of the threshold (classifier)
     * @param errorRate misclassification rate at the threshold (classifier) over {@code joined};
     *     NaN below the minimum count
     * @param logLoss mean log-loss (classifier); NaN below the minimum count
     * @param mae mean absolute error |label - score|; NaN below the minimum count
     * @param level {@code errorRate} (classifier) or {@code mae} (regressor) against its levels
     */
    public record Labels(
            String kind,
            long opened,
            long joined,
            long pending,
            long expired,
            long late,
            long misclassified,
            double errorRate,
            double logLoss,
            double mae,
            DriftMeasures.Level level) {}

    /**
     * One quantity's drift within one segment value.
     *
     * @param segment {@code field=value}
     * @param quantity a feature name, or {@code score}
     * @param adjustedP the Benjamini-Hochberg adjusted p-value across every segment × quantity test
     *     of this report; NaN when insufficient
     * @param discovery whether the test is a discovery at the configured false discovery rate
     * @param level {@code OK} unless a discovery, then the PSI against its thresholds
     */
    public record SegmentDrift(
            String segment,
            String quantity,
            DriftMeasures.Result drift,
            double adjustedP,
            boolean discovery,
            DriftMeasures.Level level) {}

    /**
     * A shadow candidate against the served baseline on the same events.
     *
     * @param flipRate share of pairs whose decisions at the threshold differ
     * @param meanDelta mean of {@code shadow - baseline} score
     * @param mcNemar McNemar's test of the flips (continuity-corrected χ², one degree of freedom)
     * @param wilcoxon the signed-rank test of the score differences (normal approximation, on up to
     *     4,000 sampled pairs: {@code wilcoxon.n()})
     */
    public record Paired(
            long pairs,
            long flipsUp,
            long flipsDown,
            double flipRate,
            double meanDelta,
            double sdDelta,
            io.canaryflow.operators.drift.PairedTests.Result mcNemar,
            io.canaryflow.operators.drift.PairedTests.Result wilcoxon) {}
}
