package io.canaryflow.operators.records;

import java.util.Map;

/**
 * A decoded, validated feature event. {@code features} holds one finite float per feature of the
 * experiment's schema, in schema order (see {@code ExperimentSchema}).
 *
 * @param ts event time, epoch milliseconds
 * @param segment optional segment labels (country, device, ...), empty when absent
 * @param source the undecoded record, kept for dead letters further down the pipeline
 */
public record FeatureEvent(
        String eventId,
        String unit,
        String experiment,
        long ts,
        float[] features,
        Map<String, String> segment,
        SourceRecord source) {}
