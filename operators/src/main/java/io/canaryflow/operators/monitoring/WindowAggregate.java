package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.drift.DriftMeasures;
import io.canaryflow.operators.drift.Histograms;
import io.canaryflow.operators.latency.LatencyHistogram;
import io.canaryflow.operators.records.Prediction;
import java.util.ArrayList;
import java.util.List;

/** A window's counts on the heap: one update per prediction, no state backend access. */
final class WindowAggregate {
    private final String experiment;
    private final String model;
    private final String version;
    private final String arm;
    private final long windowStart;
    private final long windowEnd;
    private final Histograms histograms;
    private final LatencyHistogram latency = new LatencyHistogram();
    private final int features;
    private long count;

    WindowAggregate(
            Prediction first,
            long windowStart,
            long windowEnd,
            MonitorReferences.Version references) {
        this.experiment = first.experiment();
        this.model = first.model();
        this.version = first.version();
        this.arm = first.arm().wireName();
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.histograms = new Histograms(references.binning());
        this.features = references.features().size();
    }

    /** Whether {@code p}, in the window starting at {@code start}, belongs to this aggregate. */
    boolean holds(Prediction p, long start) {
        return windowStart == start
                && experiment.equals(p.experiment())
                && version.equals(p.version())
                && arm.equals(p.arm().wireName());
    }

    long windowEnd() {
        return windowEnd;
    }

    /** Counts a prediction; its features enter the drift histograms only when {@code sampled}. */
    void add(Prediction p, boolean sampled) {
        float[] values = p.features();
        if (sampled && values != null) {
            for (int f = 0; f < features && f < values.length; f++) {
                histograms.add(f, values[f]);
            }
        }
        histograms.add(features, p.score());
        latency.add(p.latencyUs());
        count++;
    }

    WindowPartial toPartial() {
        long[][] featureCounts = new long[features][];
        long[] nonFinite = new long[features];
        for (int f = 0; f < features; f++) {
            featureCounts[f] = histograms.counts(f);
            nonFinite[f] = histograms.nonFinite(f);
        }
        return new WindowPartial(
                experiment,
                model,
                version,
                arm,
                windowStart,
                windowEnd,
                count,
                featureCounts,
                nonFinite,
                histograms.counts(features),
                histograms.nonFinite(features),
                latency.toSparse());
    }

    /** The report of a complete window. */
    static MonitoringRecord report(
            WindowPartial w,
            MonitorReferences.Version references,
            DriftMeasures.Thresholds t,
            long reportedAt) {
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
        LatencyHistogram latency = LatencyHistogram.fromSparse(w.latency());
        return new MonitoringRecord(
                w.experiment(),
                w.model(),
                w.version(),
                w.arm(),
                w.windowStart(),
                w.windowEnd(),
                w.count(),
                names.toArray(String[]::new),
                drift.toArray(DriftMeasures.Result[]::new),
                score,
                latency.percentile(0.5),
                latency.percentile(0.95),
                latency.percentile(0.99),
                t,
                reportedAt);
    }
}
