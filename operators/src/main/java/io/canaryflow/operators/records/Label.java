package io.canaryflow.operators.records;

/**
 * Ground truth for one event, from the {@code labels} topic; it arrives late, possibly never.
 *
 * @param label the true value: 0 or 1 for a binary classifier, the target for a regressor
 * @param ts when the label became known, epoch milliseconds (event time)
 */
public record Label(String eventId, double label, long ts) {}
