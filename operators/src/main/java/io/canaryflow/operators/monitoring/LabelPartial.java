package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.units.UnitSketch;

/**
 * One subtask's label outcomes of one (experiment, version, arm) in one event-time window: the
 * window in which each outcome became known (a prediction's own time for {@code opened}, the
 * label's time for {@code joined} and {@code late}, the end of the label horizon for {@code
 * expired}; never earlier than the watermark, so no outcome is lost to a closed window).
 *
 * @param opened predictions that started waiting for a label
 * @param joined labels that arrived within the horizon
 * @param expired predictions whose horizon passed without a label
 * @param late labels that arrived after their prediction's horizon
 * @param misclassified joined predictions on the wrong side of the threshold (classifiers)
 * @param logLossSum sum of the joined predictions' log-loss (classifiers; p clipped to [1e-15, 1 -
 *     1e-15])
 * @param absErrorSum sum of the joined predictions' absolute error |label - score|
 */
public record LabelPartial(
        String experiment,
        String model,
        String version,
        String arm,
        long windowStart,
        long windowEnd,
        long opened,
        long joined,
        long expired,
        long late,
        long misclassified,
        double logLossSum,
        double absErrorSum,
        UnitSketch units) {

    String seriesKey() {
        return experiment + '\u0000' + version + '\u0000' + arm;
    }

    /** The same counts as part of another window (sliding windows add up their buckets). */
    public LabelPartial in(long start, long end) {
        return new LabelPartial(
                experiment,
                model,
                version,
                arm,
                start,
                end,
                opened,
                joined,
                expired,
                late,
                misclassified,
                logLossSum,
                absErrorSum,
                units);
    }

    public LabelPartial plus(LabelPartial o) {
        if (!seriesKey().equals(o.seriesKey()) || windowStart != o.windowStart) {
            throw new IllegalArgumentException("label partials of different windows");
        }
        return new LabelPartial(
                experiment,
                model,
                version,
                arm,
                windowStart,
                windowEnd,
                opened + o.opened,
                joined + o.joined,
                expired + o.expired,
                late + o.late,
                misclassified + o.misclassified,
                logLossSum + o.logLossSum,
                absErrorSum + o.absErrorSum,
                (units != null || joined == 0) && (o.units != null || o.joined == 0)
                        ? UnitSketch.sum(units, o.units)
                        : null);
    }

    /** An empty partial for a series and window. */
    static LabelPartial empty(
            String experiment, String model, String version, String arm, long start, long end) {
        return new LabelPartial(
                experiment, model, version, arm, start, end, 0, 0, 0, 0, 0, 0, 0, null);
    }
}
