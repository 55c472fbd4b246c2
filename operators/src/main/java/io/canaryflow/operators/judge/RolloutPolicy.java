package io.canaryflow.operators.judge;

import java.io.Serializable;
import java.util.List;

/**
 * How a rollout is judged.
 *
 * @param schedule candidate traffic per step, percent, ascending; reaching 100 is the promotion
 * @param minStepMillis event time a step lasts at least before it may advance
 * @param minSamples observations each arm needs in a step (and per guardrail metric) first
 * @param alpha family-wise error of the guardrail tests over the whole rollout (Holm)
 * @param srmP a sample-ratio-mismatch p-value below this marks the window UNHEALTHY
 * @param failLimit failed windows in a row of non-critical guardrails that roll back
 * @param dryRun decide, but only say what would be done
 */
public record RolloutPolicy(
        List<Double> schedule,
        long minStepMillis,
        long minSamples,
        List<Guardrail> guardrails,
        double alpha,
        double srmP,
        int failLimit,
        boolean dryRun)
        implements Serializable {

    /** The default ramp: 1, 5, 10, 25, 50, 100 %. */
    public static final List<Double> DEFAULT_SCHEDULE = List.of(1.0, 5.0, 10.0, 25.0, 50.0, 100.0);

    public RolloutPolicy {
        schedule = List.copyOf(schedule);
        guardrails = List.copyOf(guardrails);
        if (schedule.isEmpty()) {
            throw new IllegalArgumentException("the schedule needs at least one step");
        }
        for (int i = 0; i < schedule.size(); i++) {
            double p = schedule.get(i);
            if (!(p > 0 && p <= 100) || (i > 0 && p <= schedule.get(i - 1))) {
                throw new IllegalArgumentException(
                        "schedule steps must rise within (0, 100], got " + schedule);
            }
        }
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
        }
        if (!(srmP > 0 && srmP < 1)) {
            throw new IllegalArgumentException("SRM threshold must be in (0, 1), got " + srmP);
        }
        if (failLimit < 1 || minSamples < 1 || minStepMillis < 0) {
            throw new IllegalArgumentException(
                    "need failLimit >= 1, minSamples >= 1, minStepMillis >= 0");
        }
    }
}
