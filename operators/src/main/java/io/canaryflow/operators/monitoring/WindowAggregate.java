package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.drift.Histograms;
import io.canaryflow.operators.latency.LatencyHistogram;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.ScoringFailure;
import io.canaryflow.operators.units.LatencySketch;
import io.canaryflow.operators.units.UnitSet;
import io.canaryflow.operators.units.UnitSketch;
import io.canaryflow.operators.units.UnitWindows;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A bucket's counts on the heap (a tumbling window, or one slide of a sliding window): one update
 * per prediction, no state backend access.
 */
final class WindowAggregate {
    private final String experiment;
    private final String model;
    private final String version;
    private final String arm;
    private final long windowStart;
    private final long windowEnd;
    private final List<io.canaryflow.modelloader.ReferenceBins> binning;
    private final Histograms histograms;
    private final LatencyHistogram latency = new LatencyHistogram();
    private final int features;
    private final long timeoutMicros;
    private final List<String> segmentFields;
    private final int maxSegmentValues;
    private final Map<String, Histograms> segments = new LinkedHashMap<>();
    private final Map<String, Integer> segmentValues = new HashMap<>();
    private final long[] failures = new long[ScoringFailure.values().length];
    private long timeouts;
    private final UnitSketch units = new UnitSketch();
    private final LatencySketch.Builder latencyUnits = new LatencySketch.Builder();
    private final UnitWindows seriesUnits;
    private final UnitSet seen;
    private final long[] unitsNewToWindow;
    private long activeUnits;
    private long count;
    private long late;
    private double scoreSum;
    private double scoreSumSquares;
    private long pairs;
    private long flipsUp;
    private long flipsDown;
    private UnitSketch pairUnits;
    private double deltaSum;
    private double deltaSumSquares;
    private double[] deltas;

    WindowAggregate(
            Prediction first,
            long windowStart,
            long windowEnd,
            MonitorReferences.Version references,
            MonitorSettings settings,
            UnitWindows seriesUnits) {
        this.seriesUnits = seriesUnits;
        this.seen = seriesUnits.bucket(windowEnd);
        this.unitsNewToWindow = new long[seriesUnits.slides()];
        this.experiment = first.experiment();
        this.model = first.model();
        this.version = first.version();
        this.arm = first.arm().wireName();
        this.windowStart = windowStart;
        this.windowEnd = windowEnd;
        this.binning = references.binning();
        this.histograms = new Histograms(binning);
        this.features = references.features().size();
        this.timeoutMicros = settings.timeoutMicros();
        this.segmentFields = settings.segmentFields();
        this.maxSegmentValues = settings.maxSegmentValues();
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

    /** Counts a prediction or failure that came after its own window had closed. */
    void addLate() {
        late++;
    }

    /**
     * Counts a prediction, or a scoring failure; features enter the drift histograms (overall and
     * per segment) only when {@code sampled}.
     */
    void add(Prediction p, boolean sampled) {
        boolean error = !p.scored() || p.latencyUs() > timeoutMicros;
        boolean finite = p.scored() && Float.isFinite(p.score());
        long unit = UnitSketch.hash(p.unit());
        boolean first = seriesUnits.add(seen, unit, unitsNewToWindow);
        if (first) {
            activeUnits++;
        }
        units.add(
                unit, 1, error ? 1 : 0, p.scored() ? 1 : 0, finite ? p.score() : 0, first ? 1 : 0);
        if (!p.scored()) {
            failures[p.failure().ordinal()]++;
            return;
        }
        float[] values = p.features();
        if (sampled && values != null) {
            for (int f = 0; f < features && f < values.length; f++) {
                histograms.add(f, values[f]);
            }
            if (!segmentFields.isEmpty() && p.segment() != null) {
                addSegments(p, values);
            }
        }
        histograms.add(features, p.score());
        histograms.add(features + 1, p.score());
        if (Float.isFinite(p.score())) {
            scoreSum += p.score();
            scoreSumSquares += (double) p.score() * p.score();
        }
        latency.add(p.latencyUs());
        latencyUnits.add(unit, p.latencyUs());
        if (p.latencyUs() > timeoutMicros) {
            timeouts++;
        }
        count++;
    }

    private void addSegments(Prediction p, float[] values) {
        for (String field : segmentFields) {
            String value = p.segment().get(field);
            if (value == null) {
                continue;
            }
            String key = field + '=' + value;
            Histograms h = segments.get(key);
            if (h == null) {
                int seen = segmentValues.getOrDefault(field, 0);
                if (seen >= maxSegmentValues) {
                    key = field + '=' + MonitorSettings.OTHER_SEGMENT;
                    h = segments.get(key);
                }
                if (h == null) {
                    h = new Histograms(binning);
                    segments.put(key, h);
                    segmentValues.put(field, seen + 1);
                }
            }
            for (int f = 0; f < features && f < values.length; f++) {
                h.add(f, values[f]);
            }
            h.add(features, p.score());
        }
    }

    /**
     * Counts one event scored by both the served baseline and this (shadow) series: the decisions
     * at {@code threshold} and the score difference {@code shadow - baseline}.
     */
    void addPair(long unitHash, float baseline, float shadow, double threshold) {
        boolean before = baseline >= threshold;
        boolean after = shadow >= threshold;
        if (!before && after) {
            flipsUp++;
        } else if (before && !after) {
            flipsDown++;
        }
        if (pairUnits == null) {
            pairUnits = new UnitSketch();
        }
        pairUnits.add(unitHash, 1, before != after ? 1 : 0, 0, 0, 0);
        double delta = (double) shadow - baseline;
        deltaSum += delta;
        deltaSumSquares += delta * delta;
        if (pairs < PairedCounts.SAMPLE) {
            if (deltas == null) {
                deltas = new double[PairedCounts.SAMPLE];
            }
            deltas[(int) pairs] = delta;
        }
        pairs++;
    }

    WindowPartial toPartial() {
        long[][] featureCounts = new long[features][];
        long[] nonFinite = new long[features];
        for (int f = 0; f < features; f++) {
            featureCounts[f] = histograms.counts(f);
            nonFinite[f] = histograms.nonFinite(f);
        }
        long[][][] segmentCounts = new long[segments.size()][][];
        int s = 0;
        for (Histograms h : segments.values()) {
            segmentCounts[s] = new long[h.quantities()][];
            for (int q = 0; q < h.quantities(); q++) {
                segmentCounts[s][q] = h.counts(q);
            }
            s++;
        }
        return new WindowPartial(
                experiment,
                model,
                version,
                arm,
                windowStart,
                windowEnd,
                count,
                late,
                featureCounts,
                nonFinite,
                histograms.counts(features),
                histograms.nonFinite(features),
                histograms.counts(features + 1),
                new double[] {scoreSum, scoreSumSquares},
                latency.toSparse(),
                failures.clone(),
                timeouts,
                segments.keySet().toArray(String[]::new),
                segmentCounts,
                pairs == 0
                        ? PairedCounts.NONE
                        : new PairedCounts(
                                pairs,
                                flipsUp,
                                flipsDown,
                                deltaSum,
                                deltaSumSquares,
                                Arrays.copyOf(deltas, (int) Math.min(pairs, PairedCounts.SAMPLE)),
                                pairUnits),
                activeUnits,
                units,
                latencyUnits.build(),
                unitsNewToWindow.clone());
    }

    /** A window of the series with nothing counted. */
    static WindowPartial empty(
            String experiment,
            String model,
            String version,
            String arm,
            long windowStart,
            long windowEnd,
            MonitorReferences.Version references) {
        List<io.canaryflow.modelloader.ReferenceBins> bins = references.binning();
        long[][] featureCounts = new long[bins.size() - 2][];
        for (int f = 0; f < featureCounts.length; f++) {
            featureCounts[f] = new long[bins.get(f).bins()];
        }
        return new WindowPartial(
                experiment,
                model,
                version,
                arm,
                windowStart,
                windowEnd,
                0,
                0,
                featureCounts,
                new long[featureCounts.length],
                new long[bins.get(bins.size() - 2).bins()],
                0,
                new long[bins.get(bins.size() - 1).bins()],
                new double[2],
                new LatencyHistogram().toSparse(),
                new long[ScoringFailure.values().length],
                0,
                new String[0],
                new long[0][][],
                PairedCounts.NONE,
                0,
                null,
                null,
                null);
    }
}
