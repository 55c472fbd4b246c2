package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.latency.LatencyHistogram;

/**
 * One subtask's pre-aggregated counts of one (experiment, version, arm, event-time window): bin
 * counts per feature (experiment-schema order) and of the score, non-finite counts, and scoring
 * latencies. Partials of the same window from every subtask are added together downstream.
 */
public record WindowPartial(
        String experiment,
        String model,
        String version,
        String arm,
        long windowStart,
        long windowEnd,
        long count,
        long[][] featureCounts,
        long[] featureNonFinite,
        long[] scoreCounts,
        long scoreNonFinite,
        LatencyHistogram.Sparse latency) {

    /** The key partials of one window share. */
    public String key() {
        return seriesKey() + '\u0000' + windowStart;
    }

    /** The key of the (experiment, version, arm) series the window belongs to. */
    public String seriesKey() {
        return experiment + '\u0000' + version + '\u0000' + arm;
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
        return new WindowPartial(
                experiment,
                model,
                version,
                arm,
                windowStart,
                windowEnd,
                count + o.count,
                features,
                nonFinite,
                add(scoreCounts, o.scoreCounts),
                scoreNonFinite + o.scoreNonFinite,
                merged.toSparse());
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
