package io.canaryflow.operators.judge;

import java.util.List;

/**
 * What the judge decided for one window, with all of its evidence.
 *
 * @param stepFrom candidate traffic before, percent
 * @param stepTo candidate traffic after, percent (as before unless ADVANCE or PROMOTE; 0 after a
 *     ROLLBACK)
 * @param srm sample ratio check of the window; null when an arm saw nothing
 * @param guardrails each guardrail's test on the rollout's data so far; empty when the window was
 *     not judged (ROLLBACK of an unloadable candidate, UNHEALTHY, NO_DATA)
 * @param reasons why, in words
 */
public record Verdict(
        Action action,
        boolean dryRun,
        double stepFrom,
        double stepTo,
        long windowStart,
        long windowEnd,
        ArmCounts control,
        ArmCounts candidate,
        Srm srm,
        List<GuardrailResult> guardrails,
        List<String> reasons) {

    /** The judge's actions (the control topic's decision {@code action}). */
    public enum Action {
        ADVANCE,
        PROMOTE,
        ROLLBACK,
        HOLD,
        UNHEALTHY,
        NO_DATA
    }

    /**
     * Pearson χ² of the window's control and candidate attempts against the plan's shares.
     *
     * @param expectedCandidateShare the plan's candidate share of control + candidate
     */
    public record Srm(
            double statistic,
            double pValue,
            double expectedCandidateShare,
            long control,
            long candidate) {}

    /** How one guardrail reads now. */
    public enum Result {
        PASS,
        FAIL,
        INCONCLUSIVE
    }

    /**
     * One guardrail's test over the rollout so far.
     *
     * @param delta candidate rate minus control rate
     * @param lower lower end of the always-valid (1 - α) confidence sequence for the difference
     * @param upper its upper end
     * @param pValue the always-valid one-sided p-value of "the difference is at most the threshold"
     *     (running minimum), compared with Holm's level
     */
    public record GuardrailResult(
            Guardrail guardrail,
            String test,
            long controlN,
            long candidateN,
            double controlRate,
            double candidateRate,
            double delta,
            double lower,
            double upper,
            double pValue,
            Result result,
            String reason) {}
}
