package io.canaryflow.operators.judge;

/**
 * Everything a {@link Judge} remembers, as plain typed fields that Flink serializes itself (a POJO:
 * fields may be added or removed between versions and a savepoint still restores), rather than the
 * judge object in Java serialization, which breaks whenever its code changes. A field added in a
 * later version reads as 0, false or null from an older state: {@link Judge#restore} must take that
 * as "absent" (as it does for the rollout's start and the running p-values).
 *
 * @param policy the policy's fields ({@link RolloutPolicy#toFields}), one {@code key=value} a line,
 *     so that a policy a command brought survives a restore
 * @param step the schedule step, -1 after a rollback
 * @param runningP (states of earlier versions only: see {@code guardrails})
 * @param ratioHarmLogs (earlier versions only) per guardrail, a relative one's harm e-process
 * @param ratioPassLogs (earlier versions only) its pass e-process
 * @param ratioPValues (earlier versions only; never read: running minima no test used)
 * @param quantileHarmLogs (earlier versions only) per guardrail, a latency one's harm e-process
 * @param quantilePassLogs (earlier versions only) its pass e-process
 * @param quantilePValues (earlier versions only; never read)
 * @param awaiting the rollout waits for a person since an INCONCLUSIVE step (false in states from
 *     before it existed)
 * @param finalLookTaken the planned final look at a maximum duration was taken (false in states
 *     from before it existed)
 * @param guardrails per guardrail of the policy, in its order, what its test keeps: its running
 *     p-value and its exact e-process. Null in states of earlier versions, which kept the same in
 *     the parallel arrays {@code runningP}, {@code ratio*} and {@code quantile*}: those are read
 *     then (the migration), and written null since
 */
public record JudgeState(
        String policy,
        int step,
        long stepStartedAt,
        long rolloutStartedAt,
        ArmCounts stepControl,
        ArmCounts stepCandidate,
        ArmCounts control,
        ArmCounts candidate,
        ArmCounts splitControl,
        ArmCounts splitCandidate,
        double srmRunningP,
        double srmUnitsRunningP,
        double[] runningP,
        double[][] ratioHarmLogs,
        double[][] ratioPassLogs,
        double[][] ratioPValues,
        int failedInARow,
        boolean done,
        boolean shadow,
        boolean ab,
        double share,
        double[][] quantileHarmLogs,
        double[][] quantilePassLogs,
        double[][] quantilePValues,
        boolean awaiting,
        boolean finalLookTaken,
        GuardrailState[] guardrails) {}
