package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.drift.DriftMeasures;

/**
 * What the monitor reports for one (experiment, version, arm, event-time window).
 *
 * @param featureNames features with a reference in the version's manifest, schema order
 * @param featureDrift drift of each of {@code featureNames} against its reference
 * @param scoreDrift drift of the score against the manifest's reference score distribution
 * @param latencyP50Us nearest-rank scoring latency percentiles, within 1/256 (see {@code
 *     LatencyHistogram}); NaN for an empty window
 * @param reportedAt processing time of the report, epoch milliseconds (also its Kafka timestamp:
 *     window times are event times, which broker time retention must not see)
 */
public record MonitoringRecord(
        String experiment,
        String model,
        String version,
        String arm,
        long windowStart,
        long windowEnd,
        long count,
        String[] featureNames,
        DriftMeasures.Result[] featureDrift,
        DriftMeasures.Result scoreDrift,
        double latencyP50Us,
        double latencyP95Us,
        double latencyP99Us,
        DriftMeasures.Thresholds thresholds,
        long reportedAt) {}
