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
 * @param timedOut the decision was taken by a maximum duration (max-step-duration or max-duration),
 *     not by evidence: an INCONCLUSIVE, or a ROLLBACK or PROMOTE of {@code timeout-action}
 * @param awaiting after this decision the rollout waits for a person (since an INCONCLUSIVE step)
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
        List<String> reasons,
        boolean timedOut,
        boolean awaiting) {

    /** The judge's actions (the control topic's decision {@code action}). */
    public enum Action {
        ADVANCE,
        PROMOTE,
        ROLLBACK,
        HOLD,
        UNHEALTHY,
        NO_DATA,
        /**
         * A step reached its maximum duration (or the rollout its own) with no guardrail failing
         * and not all passing: the evidence decides neither way. Routing stays as it is, the judge
         * keeps judging harm (a FAIL still rolls back) but moves the ramp no further until a person
         * sends RESUME (which restarts the clocks), PROMOTE or ABORT.
         */
        INCONCLUSIVE
    }

    /**
     * The sample-ratio check: do the arms split as the plan says, in active units and in scorings?
     * Units (not events) are randomized, so the variance of the candidate's total of a per-unit
     * quantity q_u is s(1 − s)·Σ_u q_u² (a randomization variance; Σ_u q_u² from the arms' {@link
     * io.canaryflow.operators.units.UnitSketch}es, Σ_u q_u without them, i.e. one scoring per
     * unit). Both quantities are tested, each at half the level (Bonferroni): units active per
     * window catch a candidate that loses whole units, and are hardly swayed by a few heavy units;
     * scorings catch one that loses part of every unit's traffic when units are many.
     *
     * @param statistic the window's χ² (1 degree of freedom) of the scorings: (candidate −
     *     s·total)² / variance
     * @param pValue the window's p-value: twice the smaller of the scorings' and the units' (at
     *     most 1); below the policy's {@code srm-p} the window is not used
     * @param expectedCandidateShare s, the plan's candidate share of control + candidate
     * @param designEffect Σ_u n_u² / Σ_u n_u in the window, n_u a unit's scorings: how much more
     *     the split of scorings varies than if every scoring were randomized on its own
     * @param controlUnits the control's active units in the window
     * @param candidateUnits the candidate's
     * @param unitsStatistic the window's χ² of the active units
     * @param rolloutP always-valid p-value of the split over every window of the rollout so far
     *     (mSPRT per quantity, running minimum, Bonferroni); below {@code srm-p} the rollout ends
     * @param rolloutControl the control's scorings over the rollout so far
     * @param rolloutCandidate the candidate's
     * @param rolloutControlUnits the control's active units, added up over the rollout's windows
     * @param rolloutCandidateUnits the candidate's
     */
    public record Srm(
            double statistic,
            double pValue,
            double expectedCandidateShare,
            long control,
            long candidate,
            double designEffect,
            long controlUnits,
            long candidateUnits,
            double unitsStatistic,
            double rolloutP,
            long rolloutControl,
            long rolloutCandidate,
            long rolloutControlUnits,
            long rolloutCandidateUnits) {

        /** Named in every decision's {@code health}. */
        public static final String TEST =
                "chi-square of the candidate's share of active units and of scorings, variance over units (the randomization unit), Bonferroni; rollout: mSPRT, normal mixture N(0, 0.01^2), per quantity";
    }

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
