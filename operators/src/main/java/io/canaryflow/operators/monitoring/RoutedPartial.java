package io.canaryflow.operators.monitoring;

/**
 * How many events routing sent to one (experiment, version, arm) in one event-time bucket (a
 * tumbling window, or one slide of a sliding window), counted by the route operator itself, before
 * scoring: routing is deterministic, so this is exactly what the arm should report as predictions
 * and inference errors. The merge adds a window's partials up and reports the sum beside the
 * attempts ({@link MonitoringRecord.Errors#routed}); the judge reads the difference as scorings
 * lost between routing and monitoring.
 *
 * @param windowStart the bucket's start, event time
 * @param windowEnd the bucket's end
 * @param routed events routed to the series in the bucket
 */
public record RoutedPartial(
        String experiment,
        String model,
        String version,
        String arm,
        long windowStart,
        long windowEnd,
        long routed) {

    public RoutedPartial plus(RoutedPartial o) {
        return new RoutedPartial(
                experiment, model, version, arm, windowStart, windowEnd, routed + o.routed);
    }

    /** The same count, as part of the window [start, end) being reported. */
    public RoutedPartial in(long start, long end) {
        return new RoutedPartial(experiment, model, version, arm, start, end, routed);
    }
}
