package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.units.UnitSketch;

/**
 * What the label join takes of a prediction: its event id (the join's key), its series ({@link
 * LabelSeries#hash}), time, score and unit (hashed as {@link UnitSketch#hash}; 0 when it has none).
 * No strings but the key: this is shipped to the join once per prediction.
 *
 * @param named the series itself when it is not among those configured (a version a command
 *     brought), so that the join learns it; null otherwise
 */
public record WaitingPrediction(
        String eventId, long series, long ts, float score, long unit, LabelSeries named) {

    public WaitingPrediction(String eventId, long series, long ts, float score, long unit) {
        this(eventId, series, ts, score, unit, null);
    }

    /** The prediction as the join takes it; {@code configured} are the series known at start. */
    public static WaitingPrediction of(Prediction p, java.util.Map<Long, LabelSeries> configured) {
        long series = LabelSeries.hash(p.experiment(), p.version(), p.arm().wireName());
        return new WaitingPrediction(
                p.eventId(),
                series,
                p.ts(),
                p.score(),
                p.unit() == null ? 0 : UnitSketch.hash(p.unit()),
                configured.containsKey(series)
                        ? null
                        : new LabelSeries(
                                p.experiment(), p.model(), p.version(), p.arm().wireName()));
    }
}
