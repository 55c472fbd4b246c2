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
 * @param ratioHarmLogs per guardrail, a relative one's harm test state (null for the others)
 * @param ratioPassLogs its pass test state
 * @param ratioPValues per guardrail, its harm and pass running p-values (relative ones)
 * @param quantileHarmLogs per guardrail, a latency one's quantile test state (null for the others)
 * @param quantilePassLogs its pass test state
 * @param quantilePValues its harm and pass running p-values
 * @param awaiting the rollout waits for a person since an INCONCLUSIVE step (false in states from
 *     before it existed)
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
        boolean finalLookTaken) {}
