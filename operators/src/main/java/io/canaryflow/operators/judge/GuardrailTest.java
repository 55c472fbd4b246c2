package io.canaryflow.operators.judge;

import java.io.Serializable;

/**
 * One guardrail's sequential test, one kind per class: what it keeps between windows ({@link
 * #observe}), and its assessment at a look on the rollout's counts so far ({@link #assess}). The
 * judge then takes, for every guardrail, sample ratio → assessments → Holm across their harm
 * p-values → the ramp; each kind words its own result.
 *
 * <ul>
 *   <li>{@link DifferenceTest}: an absolute difference of rates or of mean scores;
 *   <li>{@link RelativeRateTest}: a rate ratio ({@code +50%});
 *   <li>{@link TailShareTest}: the latency p99 ratio, as the share of scorings above a cut;
 *   <li>{@link ScoreBinsTest}: the score's distribution over shared bins (PSI).
 * </ul>
 */
abstract class GuardrailTest implements Serializable {
    private static final long serialVersionUID = 1L;

    final Guardrail guardrail;

    GuardrailTest(Guardrail guardrail) {
        this.guardrail = guardrail;
    }

    /** The test for {@code g}. */
    static GuardrailTest of(Guardrail g) {
        if (g.metric() == Guardrail.Metric.LATENCY_P99_RATIO) {
            return new TailShareTest(g);
        }
        if (g.metric() == Guardrail.Metric.SCORE_PSI) {
            return new ScoreBinsTest(g);
        }
        return g.relative() ? new RelativeRateTest(g) : new DifferenceTest(g);
    }

    /**
     * What a test sees at a look.
     *
     * @param control the control's counts over the rollout so far
     * @param candidate the candidate's
     * @param share the candidate's expected share of the two arms' traffic
     * @param alpha the policy's α
     * @param horizon whether this is the planned final look (see {@link Judge#FINAL_SHARE})
     */
    record Look(
            ArmCounts control, ArmCounts candidate, double share, double alpha, boolean horizon) {
        /** The level of the always-valid mixture of a guardrail that keeps a final look. */
        double sequentialAlpha() {
            return alpha * (1 - Judge.FINAL_SHARE);
        }
    }

    /**
     * A test at one look.
     *
     * @param control the control's rate or mean (NaN where none is shown)
     * @param candidate the candidate's
     * @param delta what is compared with the threshold (a difference, a relative change, a share, a
     *     PSI)
     * @param lower the always-valid interval's lower end (NaN where none is shown)
     * @param upper its upper end
     * @param harmP this look's p-value of harm, at level α (1 when untested)
     * @param passP this look's p-value of a pass, at level α (1 when untested)
     * @param passes the candidate is shown within the margin at this look
     * @param vetoP a PASS also needs this p-value at most α (0: no veto)
     * @param testable false when the counts cannot be tested at all (no shared score bins)
     */
    record Assessment(
            double control,
            double candidate,
            double delta,
            double lower,
            double upper,
            double harmP,
            double passP,
            boolean passes,
            double vetoP,
            boolean testable) {}

    /** Adds one judged window to what the test keeps (most keep nothing: they read the totals). */
    void observe(Evidence window) {}

    /** The test on the rollout's counts so far; both arms have observations of the metric. */
    abstract Assessment assess(Look look);

    /** The result's reason in words, once the result is known. */
    abstract String reason(Assessment a, Verdict.Result result, double tested);

    /** The decision's {@code test}: the test and which unit its variance is over. */
    abstract String name(Look look);

    /** The exact e-process this test keeps, for the judge's state; null when it keeps none. */
    MixtureTest exact() {
        return null;
    }

    /**
     * A p-value at level α from the mixture's {@code sequential} one (at α·(1 − FINAL_SHARE)) and,
     * at the final look, the fixed-horizon z-test of {@code z} standard errors beyond the boundary
     * at information {@code u} (τ²/V), with the α the mixture left unspent ({@link FinalLook}).
     */
    static double withFinalLook(
            double sequential, double z, double u, double alpha, boolean horizon) {
        return horizon
                ? FinalLook.pValue(sequential, z, u, alpha)
                : Math.min(1, sequential / (1 - Judge.FINAL_SHARE));
    }

    /**
     * The assessment of a test over units {@code l} with an exact e-process beside it: a decision
     * needs both, so each side's p-value is the larger of the two (the mixture's joined, at the
     * final look, by its fixed-horizon test); a PASS is the pass side's at most α.
     */
    static Assessment bothTests(
            DeltaMethodSprt.Look l,
            MixtureTest exact,
            Look look,
            double control,
            double candidate,
            double delta,
            double lower,
            double upper) {
        double passP =
                Math.max(
                        withFinalLook(
                                l.passP(), l.passZ(), l.passU(), look.alpha(), look.horizon()),
                        exact.lastPassP());
        double harmP =
                Math.max(
                        withFinalLook(
                                l.harmP(), l.harmZ(), l.harmU(), look.alpha(), look.horizon()),
                        exact.lastHarmP());
        return new Assessment(
                control,
                candidate,
                delta,
                lower,
                upper,
                harmP,
                passP,
                passP <= look.alpha(),
                0,
                true);
    }

    String metricName() {
        return guardrail.metric().wireName();
    }
}
