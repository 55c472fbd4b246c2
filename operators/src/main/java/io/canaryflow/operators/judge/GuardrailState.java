package io.canaryflow.operators.judge;

import java.io.Serializable;

/**
 * What a judge keeps of one guardrail's test, typed for Flink (see {@link JudgeState}).
 *
 * @param guardrail the guardrail's spec ({@link Guardrail#spec}), so that a state is read back into
 *     the guardrail it belongs to
 * @param runningP the running minimum of the test's harm p-value over the looks judged (a critical
 *     guardrail fails on it)
 * @param harmLogs the exact e-process's accumulated log likelihood ratios of harm, one per
 *     alternative (relative and latency guardrails; null for the others)
 * @param passLogs the same for a pass
 */
public record GuardrailState(
        String guardrail, double runningP, double[] harmLogs, double[] passLogs)
        implements Serializable {}
