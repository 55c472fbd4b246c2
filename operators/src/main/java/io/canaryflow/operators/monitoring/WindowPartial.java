package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.latency.LatencyHistogram;
import io.canaryflow.operators.units.LatencySketch;
import io.canaryflow.operators.units.UnitSketch;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One subtask's pre-aggregated counts of one (experiment, version, arm, event-time bucket): a
 * bucket is a tumbling window, or one slide of a sliding window, which {@link #in} places in each
 * window it is part of; after that, the counts of a whole window (the sum of its buckets). Bin
 * counts per feature (experiment-schema order) and of the score, non-finite counts, scoring
 * latencies, inference errors, and bin counts per segment value. Partials of the same window from
 * every subtask are added together downstream.
 *
 * @param count predictions scored
 * @param late predictions and scoring failures that came after their own window had closed (later
 *     than {@code events.max-out-of-orderness} allows), counted in this window instead and in
 *     nothing else of it
 * @param sharedScoreCounts the score binned on the experiment's shared score bins, which every arm
 *     and version of the experiment uses, so that arms can be compared with each other
 * @param scoreMoments the sum of the finite scores and the sum of their squares
 * @param failures scoring failures by {@link io.canaryflow.operators.records.ScoringFailure}
 *     ordinal
 * @param timeouts predictions scored later than the timeout (also in {@code count})
 * @param segments {@code field=value} of each measured segment
 * @param segmentCounts per segment, bin counts of each feature and then the score
 * @param paired pairs with the served baseline (shadow arms), else {@link PairedCounts#NONE}
 * @param activeUnits units with an attempt in the bucket, or in the window once {@link #in} has
 *     placed it in one (each counted once per scoring task: once in all when a unit's events share
 *     a task, as Kafka keys by unit give; a unit seen before a failure and again after its recovery
 *     counts twice)
 * @param units per-unit totals of attempts, errors and scores as a {@link UnitSketch}, for the
 *     judge's unit-level variances; null when none were counted (a late-only or label-only window)
 * @param latencyUnits the latencies per unit ({@link LatencySketch}), for the latency guardrail's
 *     unit-level variance; null when none were counted
 * @param unitsNewToWindow a bucket's units per window it is part of: at {@code j}, the units with
 *     an attempt in this bucket that the scoring task had not yet seen in any other bucket of the
 *     window ending {@code j} slides after this bucket's end ({@code window / slide} counts, see
 *     {@link io.canaryflow.operators.units.UnitWindows}); added up over a window's buckets, each at
 *     its own {@code j}, they are the window's distinct units. Null in a whole window's counts
 *     (from {@link #in}), in a label-only window's, and in a partial from a version before this
 *     field (restored from a savepoint): {@link #in} then takes {@code activeUnits}, the bucket's
 *     own distinct units, as that version did — exact for tumbling windows, a sum over slides (a
 *     unit active in several slides of a window counted in each) for sliding ones
 */
public record WindowPartial(
        String experiment,
        String model,
        String version,
        String arm,
        long windowStart,
        long windowEnd,
        long count,
        long late,
        long[][] featureCounts,
        long[] featureNonFinite,
        long[] scoreCounts,
        long scoreNonFinite,
        long[] sharedScoreCounts,
        double[] scoreMoments,
        LatencyHistogram.Sparse latency,
        long[] failures,
        long timeouts,
        String[] segments,
        long[][][] segmentCounts,
        PairedCounts paired,
        long activeUnits,
        UnitSketch units,
        LatencySketch latencyUnits,
        long[] unitsNewToWindow) {

    /** The key partials of one window share. */
    public String key() {
        return seriesKey() + '\u0000' + windowStart;
    }

    /** The key of the (experiment, version, arm) series the window belongs to. */
    public String seriesKey() {
        return experiment + '\u0000' + version + '\u0000' + arm;
    }

    /** Scoring attempts: predictions plus failures. */
    public long attempts() {
        long n = count;
        for (long f : failures) {
            n += f;
        }
        return n;
    }

    /**
     * This bucket's counts as part of the window {@code [start, end)}, which ends at or after it
     * (sliding windows add up their buckets): every count as it is, but the active units, which are
     * those new to that window ({@link #unitsNewToWindow}).
     */
    public WindowPartial in(long start, long end) {
        long slide = windowEnd - windowStart;
        long j = (end - windowEnd) / slide;
        long active =
                unitsNewToWindow != null && j >= 0 && j < unitsNewToWindow.length
                        ? unitsNewToWindow[(int) j]
                        : activeUnits;
        return new WindowPartial(
                experiment,
                model,
                version,
                arm,
                start,
                end,
                count,
                late,
                featureCounts,
                featureNonFinite,
                scoreCounts,
                scoreNonFinite,
                sharedScoreCounts,
                scoreMoments,
                latency,
                failures,
                timeouts,
                segments,
                segmentCounts,
                paired,
                active,
                units,
                latencyUnits,
                null);
    }

    /**
     * This partial's predictions and failures as {@code late} ones of another bucket, {@code
     * [start, end)}, later than this one: every count zero but {@code late}, which holds this
     * partial's attempts and late ones. For a partial that reached the merge after its own bucket's
     * first window was reported. Its units new to windows still open stay counted there: the
     * scoring task has seen them in those windows, and will not count them again.
     */
    public WindowPartial asLateIn(long start, long end) {
        long[][] features = new long[featureCounts.length][];
        for (int f = 0; f < features.length; f++) {
            features[f] = new long[featureCounts[f].length];
        }
        return new WindowPartial(
                experiment,
                model,
                version,
                arm,
                start,
                end,
                0,
                attempts() + late,
                features,
                new long[featureNonFinite.length],
                new long[scoreCounts.length],
                0,
                new long[sharedScoreCounts.length],
                new double[2],
                new LatencyHistogram().toSparse(),
                new long[failures.length],
                0,
                new String[0],
                new long[0][][],
                PairedCounts.NONE,
                0,
                null,
                null,
                unitsNewToWindow == null
                        ? null
                        : shifted(unitsNewToWindow, (end - windowEnd) / (end - start)));
    }

    /**
     * {@code counts} from {@code by} on: a bucket's counts per window, seen from a later bucket.
     */
    private static long[] shifted(long[] counts, long by) {
        long[] out = new long[counts.length];
        for (int j = 0; j + by < counts.length; j++) {
            out[j] = counts[(int) (j + by)];
        }
        return out;
    }

    /** The sum of this partial and another of the same window. */
    public WindowPartial plus(WindowPartial o) {
        if (!key().equals(o.key())) {
            throw new IllegalArgumentException(
                    "partials of different windows: " + key() + " / " + o.key());
        }
        long[][] features = new long[featureCounts.length][];
        long[] nonFinite = new long[featureNonFinite.length];
        for (int f = 0; f < features.length; f++) {
            features[f] = add(featureCounts[f], o.featureCounts[f]);
            nonFinite[f] = featureNonFinite[f] + o.featureNonFinite[f];
        }
        LatencyHistogram merged = LatencyHistogram.fromSparse(latency);
        merged.merge(LatencyHistogram.fromSparse(o.latency));
        Map<String, long[][]> bySegment = new LinkedHashMap<>();
        for (WindowPartial w : new WindowPartial[] {this, o}) {
            for (int s = 0; s < w.segments.length; s++) {
                long[][] counts = w.segmentCounts[s];
                bySegment.merge(w.segments[s], counts, WindowPartial::add);
            }
        }
        return new WindowPartial(
                experiment,
                model,
                version,
                arm,
                windowStart,
                windowEnd,
                count + o.count,
                late + o.late,
                features,
                nonFinite,
                add(scoreCounts, o.scoreCounts),
                scoreNonFinite + o.scoreNonFinite,
                add(sharedScoreCounts, o.sharedScoreCounts),
                new double[] {
                    scoreMoments[0] + o.scoreMoments[0], scoreMoments[1] + o.scoreMoments[1]
                },
                merged.toSparse(),
                add(failures, o.failures),
                timeouts + o.timeouts,
                bySegment.keySet().toArray(String[]::new),
                bySegment.values().toArray(long[][][]::new),
                paired.plus(o.paired),
                activeUnits + o.activeUnits,
                (units != null || attempts() == 0) && (o.units != null || o.attempts() == 0)
                        ? UnitSketch.sum(units, o.units)
                        : null,
                (latencyUnits != null || count == 0) && (o.latencyUnits != null || o.count == 0)
                        ? LatencySketch.sum(latencyUnits, o.latencyUnits)
                        : null,
                unitsNewToWindow(this, o));
    }

    /**
     * The units new to each window of both partials of one bucket: null when either has units but
     * no such counts (from an older version, or counted with another number of slides per window),
     * so that {@link #in} falls back on the bucket's own units for the whole bucket.
     */
    private static long[] unitsNewToWindow(WindowPartial a, WindowPartial b) {
        if (a.unitsNewToWindow == null && a.activeUnits == 0) {
            return b.unitsNewToWindow;
        }
        if (b.unitsNewToWindow == null && b.activeUnits == 0) {
            return a.unitsNewToWindow;
        }
        if (a.unitsNewToWindow == null
                || b.unitsNewToWindow == null
                || a.unitsNewToWindow.length != b.unitsNewToWindow.length) {
            return null;
        }
        return add(a.unitsNewToWindow, b.unitsNewToWindow);
    }

    private static long[][] add(long[][] a, long[][] b) {
        long[][] out = new long[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = add(a[i], b[i]);
        }
        return out;
    }

    private static long[] add(long[] a, long[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(a.length + " bins against " + b.length);
        }
        long[] out = a.clone();
        for (int i = 0; i < b.length; i++) {
            out[i] += b[i];
        }
        return out;
    }
}
