package io.canaryflow.operators.records;

/**
 * Ground truth for one event, from the {@code labels} topic; it arrives late, possibly never.
 *
 * @param label the true value: 0 or 1 for a binary classifier, the target for a regressor
 * @param ts when the label became known, epoch milliseconds (event time)
 * @param unit the hash of the unit the record names ({@code UnitSketch.hash}), 0 when it names
 *     none: with {@code labels.sample-rate} below 1, a label of an unsampled unit is dropped at
 *     once
 */
public record Label(String eventId, double label, long ts, long unit) {

    public Label(String eventId, double label, long ts) {
        this(eventId, label, ts, 0);
    }
}
