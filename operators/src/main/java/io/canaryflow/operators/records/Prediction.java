package io.canaryflow.operators.records;

/**
 * One model version's score for one event.
 *
 * @param outputs the model's whole output row (for a classifier, every class probability)
 * @param scoredAt processing time of scoring, epoch milliseconds
 * @param latencyUs from the event's arrival at the scorer to its score, microseconds (includes the
 *     wait for its micro-batch)
 * @param fallbackFrom the version the router chose if it could not be loaded and the fallback
 *     served instead, else null
 * @param features the event's features in experiment-schema order, for monitoring; not written to
 *     the predictions topic; may be null
 * @param segment the event's segment labels, for monitoring; not written to the predictions topic
 * @param failure null for a score; otherwise why {@code version} failed to score the event, and
 *     {@code score} is NaN. Such a record only carries the inference error to monitoring: it is
 *     never written to the predictions topic (the event is served by the fallback, or is a dead
 *     letter, or was a shadow scoring)
 */
public record Prediction(
        String eventId,
        String unit,
        String experiment,
        String model,
        String version,
        Arm arm,
        boolean served,
        float score,
        float[] outputs,
        long ts,
        long scoredAt,
        long latencyUs,
        String planId,
        int bucket,
        String fallbackFrom,
        float[] features,
        java.util.Map<String, String> segment,
        ScoringFailure failure) {

    /** Whether this is a score rather than a {@link #failure}. */
    public boolean scored() {
        return failure == null;
    }
}
