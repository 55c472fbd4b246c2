package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.units.UnitSketch;

/**
 * What the label join takes of a prediction: its event id (the join's key), its series ({@link
 * LabelSeries#hash}), time, score and unit (hashed as {@link UnitSketch#hash}; 0 when it has none).
 * No strings but the key: this is shipped to the join once per prediction.
 */
public record WaitingPrediction(String eventId, long series, long ts, float score, long unit) {

    public static WaitingPrediction of(Prediction p) {
        return new WaitingPrediction(
                p.eventId(),
                LabelSeries.hash(p.experiment(), p.version(), p.arm().wireName()),
                p.ts(),
                p.score(),
                p.unit() == null ? 0 : UnitSketch.hash(p.unit()));
    }
}
