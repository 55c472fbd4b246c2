package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.drift.DriftMeasures;
import io.canaryflow.operators.latency.LatencyHistogram;

/** Monitoring reports of experiment "fraud" for judge tests: one-second windows, 1 ms scorings. */
public final class TestReports {
    private TestReports() {}

    /**
     * A report of {@code n} scorings and {@code failed} attempts that found the version
     * unavailable, in window {@code window} (seconds).
     */
    public static MonitoringRecord report(
            String version, String arm, long window, long n, long failed) {
        return report(version, arm, window, n, failed, latency(n, 1_000));
    }

    /** As {@link #report(String, String, long, long, long)}, with the given latencies. */
    public static MonitoringRecord report(
            String version,
            String arm,
            long window,
            long n,
            long failed,
            LatencyHistogram.Sparse latency) {
        return report(version, arm, window * 1_000, (window + 1) * 1_000, n, failed, latency);
    }

    /**
     * A report of the window [{@code start}, {@code end}) (milliseconds): a sliding window's when
     * it is longer than the slide between reports.
     */
    public static MonitoringRecord report(
            String version,
            String arm,
            long start,
            long end,
            long n,
            long failed,
            LatencyHistogram.Sparse latency) {
        long[] failures = {failed, 0, 0}; // unavailable, run failure, non-finite
        return new MonitoringRecord(
                "fraud",
                "fraud",
                version,
                arm,
                start,
                end,
                n,
                0,
                new String[0],
                new DriftMeasures.Result[0],
                null,
                null,
                null,
                1,
                1,
                1,
                DriftMeasures.Level.OK,
                latency,
                null,
                null,
                new MonitoringRecord.Errors(n + failed, failures, 0, 0, DriftMeasures.Level.OK),
                null,
                new MonitoringRecord.SegmentDrift[0],
                null,
                MonitorSettings.defaults(1_000),
                0,
                0,
                null,
                null,
                null,
                null);
    }

    /**
     * A label report of window {@code window} (seconds): {@code joined} labels, {@code
     * misclassified} of them wrong, each of its own unit.
     */
    public static MonitoringRecord labelReport(
            String version, String arm, long window, long joined, long misclassified) {
        io.canaryflow.operators.units.UnitSketch units =
                new io.canaryflow.operators.units.UnitSketch();
        for (long i = 0; i < joined; i++) {
            units.add(
                    io.canaryflow.operators.units.UnitSketch.hash(arm + "-" + window + "-" + i),
                    1,
                    i < misclassified ? 1 : 0,
                    0,
                    0,
                    0);
        }
        return MonitoringRecord.labelsOnly(
                "fraud",
                "fraud",
                version,
                arm,
                window * 1_000,
                (window + 1) * 1_000,
                new MonitoringRecord.Labels(
                        "classifier",
                        joined,
                        joined,
                        0,
                        0,
                        0,
                        misclassified,
                        (double) misclassified / joined,
                        Double.NaN,
                        Double.NaN,
                        DriftMeasures.Level.OK),
                MonitorSettings.defaults(1_000),
                0,
                units);
    }

    /** n scorings of {@code micros} each. */
    public static LatencyHistogram.Sparse latency(long n, long micros) {
        LatencyHistogram h = new LatencyHistogram();
        for (long i = 0; i < n; i++) {
            h.add(micros);
        }
        return h.toSparse();
    }
}
