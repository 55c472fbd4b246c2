package io.canaryflow.operators.monitoring;

import io.canaryflow.modelloader.ReferenceBins;
import io.canaryflow.operators.drift.BenjaminiHochberg;
import io.canaryflow.operators.drift.DriftMeasures;
import io.canaryflow.operators.latency.LatencyHistogram;
import java.util.ArrayList;
import java.util.List;

/** Turns a window's merged counts into its {@link MonitoringRecord}. Flink-free. */
final class WindowReports {
    private WindowReports() {}

    /**
     * @param compared the window of the arm this one is compared with, or null
     * @param routed the events routed to the series in the window, -1 when routing is not counted
     */
    static MonitoringRecord report(
            WindowPartial w,
            WindowPartial compared,
            MonitorReferences.Version references,
            MonitorSettings settings,
            long reportedAt,
            long routed) {
        DriftMeasures.Thresholds t = settings.drift();
        List<String> names = new ArrayList<>();
        List<DriftMeasures.Result> drift = new ArrayList<>();
        for (int f = 0; f < w.featureCounts().length; f++) {
            if (references.features().get(f) != null) {
                names.add(references.names().get(f));
                drift.add(
                        DriftMeasures.compare(
                                references.features().get(f),
                                w.featureCounts()[f],
                                w.featureNonFinite()[f],
                                t));
            }
        }
        DriftMeasures.Result score =
                references.score() == null
                        ? null
                        : DriftMeasures.compare(
                                references.score(), w.scoreCounts(), w.scoreNonFinite(), t);
        DriftMeasures.Result versus =
                compared == null || references.sharedScore() == null
                        ? null
                        : DriftMeasures.between(
                                w.sharedScoreCounts(),
                                w.scoreNonFinite(),
                                compared.sharedScoreCounts(),
                                false,
                                t);
        LatencyHistogram latency = LatencyHistogram.fromSparse(w.latency());
        double p99 = latency.percentile(0.99);
        return new MonitoringRecord(
                w.experiment(),
                w.model(),
                w.version(),
                w.arm(),
                w.windowStart(),
                w.windowEnd(),
                w.count(),
                w.late(),
                names.toArray(String[]::new),
                drift.toArray(DriftMeasures.Result[]::new),
                score,
                versus,
                versus == null ? null : compared.arm(),
                latency.percentile(0.5),
                latency.percentile(0.95),
                p99,
                w.count() < t.minCount()
                        ? DriftMeasures.Level.INSUFFICIENT
                        : settings.latencyP99Micros().of(p99),
                w.latency(),
                w.scoreMoments(),
                w.sharedScoreCounts(),
                errors(w, settings, routed),
                null,
                segments(w, references, settings),
                paired(w.paired()),
                settings,
                reportedAt,
                w.activeUnits(),
                w.units(),
                null,
                w.latencyUnits(),
                w.paired() == null ? null : w.paired().units());
    }

    /**
     * The label report of one series and window: its label outcomes alone (see {@link
     * MonitoringRecord#labelReport()}).
     *
     * @param pending predictions of the series still awaiting labels at the window's end
     */
    static MonitoringRecord labelReport(
            LabelPartial l,
            long pending,
            MonitorReferences.Version references,
            MonitorSettings settings,
            long reportedAt) {
        return MonitoringRecord.labelsOnly(
                l.experiment(),
                l.model(),
                l.version(),
                l.arm(),
                l.windowStart(),
                l.windowEnd(),
                labels(l, pending, references.kind(), settings),
                settings,
                reportedAt,
                l.units());
    }

    private static MonitoringRecord.Paired paired(PairedCounts c) {
        if (c == null || c.pairs() == 0) {
            return null;
        }
        long n = c.pairs();
        double mean = c.deltaSum() / n;
        double sd =
                n > 1
                        ? Math.sqrt(Math.max(0, (c.deltaSumSquares() - n * mean * mean) / (n - 1)))
                        : Double.NaN;
        return new MonitoringRecord.Paired(
                n,
                c.flipsUp(),
                c.flipsDown(),
                (double) (c.flipsUp() + c.flipsDown()) / n,
                mean,
                sd,
                io.canaryflow.operators.drift.PairedTests.mcNemar(c.flipsUp(), c.flipsDown()),
                io.canaryflow.operators.drift.PairedTests.wilcoxon(c.sample()));
    }

    private static MonitoringRecord.Errors errors(
            WindowPartial w, MonitorSettings settings, long routed) {
        long attempts = w.attempts();
        long failed = attempts - w.count() + w.timeouts();
        double rate = attempts == 0 ? Double.NaN : (double) failed / attempts;
        return new MonitoringRecord.Errors(
                attempts,
                w.failures().clone(),
                w.timeouts(),
                rate,
                attempts < settings.drift().minCount()
                        ? DriftMeasures.Level.INSUFFICIENT
                        : settings.errorRate().of(rate),
                routed);
    }

    private static MonitoringRecord.Labels labels(
            LabelPartial l, long pending, String kind, MonitorSettings settings) {
        if (l == null) {
            l = LabelPartial.empty(null, null, null, null, 0, 0);
        }
        boolean enough = l.joined() >= settings.drift().minCount() && l.joined() > 0;
        double errorRate = enough ? (double) l.misclassified() / l.joined() : Double.NaN;
        double logLoss = enough ? l.logLossSum() / l.joined() : Double.NaN;
        double mae = enough ? l.absErrorSum() / l.joined() : Double.NaN;
        boolean regressor = "regressor".equals(kind);
        DriftMeasures.Level level =
                enough
                        ? settings.labelError().of(regressor ? mae : errorRate)
                        : DriftMeasures.Level.INSUFFICIENT;
        return new MonitoringRecord.Labels(
                regressor ? "regressor" : "classifier",
                l.opened(),
                l.joined(),
                pending,
                l.expired(),
                l.late(),
                regressor ? 0 : l.misclassified(),
                regressor ? Double.NaN : errorRate,
                regressor ? Double.NaN : logLoss,
                mae,
                level);
    }

    /**
     * Drift per segment value of every feature with a reference and of the score, with the
     * Benjamini-Hochberg procedure at the configured q over all of them: a segment's quantity is
     * flagged only if its test is a discovery, and then leveled by its PSI.
     */
    private static MonitoringRecord.SegmentDrift[] segments(
            WindowPartial w, MonitorReferences.Version references, MonitorSettings settings) {
        List<String> segment = new ArrayList<>();
        List<String> quantity = new ArrayList<>();
        List<DriftMeasures.Result> results = new ArrayList<>();
        int features = references.features().size();
        for (int s = 0; s < w.segments().length; s++) {
            long[][] counts = w.segmentCounts()[s];
            for (int q = 0; q <= features; q++) {
                ReferenceBins bins =
                        q < features ? references.features().get(q) : references.score();
                if (bins == null) {
                    continue;
                }
                segment.add(w.segments()[s]);
                quantity.add(q < features ? references.names().get(q) : "score");
                results.add(DriftMeasures.compare(bins, counts[q], 0, settings.drift()));
            }
        }
        List<Integer> tested = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            if (!results.get(i).insufficient() && !Double.isNaN(results.get(i).pValue())) {
                tested.add(i);
            }
        }
        double[] p = new double[tested.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = results.get(tested.get(i)).pValue();
        }
        double[] adjusted = BenjaminiHochberg.adjust(p);
        boolean[] discoveries = BenjaminiHochberg.discoveries(p, settings.falseDiscoveryRate());
        MonitoringRecord.SegmentDrift[] out = new MonitoringRecord.SegmentDrift[results.size()];
        for (int i = 0; i < out.length; i++) {
            DriftMeasures.Result r = results.get(i);
            int k = tested.indexOf(i);
            boolean discovery = k >= 0 && discoveries[k];
            DriftMeasures.Level level =
                    r.insufficient()
                            ? DriftMeasures.Level.INSUFFICIENT
                            : discovery ? r.level() : DriftMeasures.Level.OK;
            out[i] =
                    new MonitoringRecord.SegmentDrift(
                            segment.get(i),
                            quantity.get(i),
                            r,
                            k >= 0 ? adjusted[k] : Double.NaN,
                            discovery,
                            level);
        }
        return out;
    }
}
