package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.records.Prediction;

/** What the label join keeps of a prediction until its label arrives or its horizon passes. */
public record AwaitingLabel(
        String eventId,
        String experiment,
        String model,
        String version,
        String arm,
        long ts,
        float score,
        String unit) {

    public static AwaitingLabel of(Prediction p) {
        return new AwaitingLabel(
                p.eventId(),
                p.experiment(),
                p.model(),
                p.version(),
                p.arm().wireName(),
                p.ts(),
                p.score(),
                p.unit());
    }

    String seriesKey() {
        return experiment + '\u0000' + version + '\u0000' + arm;
    }
}
