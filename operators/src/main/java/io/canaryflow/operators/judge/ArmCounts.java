package io.canaryflow.operators.judge;

import java.io.Serializable;

/**
 * One arm's counts, from the monitoring reports of a window (or added up over several).
 *
 * @param attempts scorings routed to the arm (predictions and inference errors)
 * @param errors inference errors among them
 * @param labelled predictions joined with their label
 * @param labelErrors misclassified among them
 */
public record ArmCounts(long attempts, long errors, long labelled, long labelErrors)
        implements Serializable {
    public static final ArmCounts NONE = new ArmCounts(0, 0, 0, 0);

    public ArmCounts plus(ArmCounts o) {
        return new ArmCounts(
                attempts + o.attempts,
                errors + o.errors,
                labelled + o.labelled,
                labelErrors + o.labelErrors);
    }

    long n(Guardrail.Metric metric) {
        return metric == Guardrail.Metric.INFERENCE_ERROR_RATE ? attempts : labelled;
    }

    long events(Guardrail.Metric metric) {
        return metric == Guardrail.Metric.INFERENCE_ERROR_RATE ? errors : labelErrors;
    }
}
