package io.canaryflow.operators.judge;

import io.canaryflow.operators.drift.SpecialFunctions;
import io.canaryflow.operators.units.UnitSketch;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Judges one rollout window by window: compares the candidate with its symmetric control cohort
 * (never with all baseline traffic), gates every decision on health, tests every guardrail with a
 * peeking-safe sequential test, and moves through the ramp. Flink-free; its state is this object,
 * which is {@link Serializable}.
 *
 * <p>Per window, in order:
 *
 * <ol>
 *   <li>an unloadable candidate: ROLLBACK;
 *   <li>no traffic in either arm: NO_DATA;
 *   <li>sample ratio mismatch (Pearson χ² of control vs candidate attempts against the plan's
 *       shares, p below the policy's threshold): UNHEALTHY — the window is not used, nothing moves;
 *   <li>the window's counts join the rollout's cumulative counts, and every guardrail is tested on
 *       them with the {@link MixtureSprt mSPRT}: the candidate's rate minus the control's against
 *       the guardrail's threshold. Its always-valid one-sided p-value goes into {@link Holm Holm's}
 *       procedure at the policy's α across the guardrails: a rejection is a FAIL. PASS needs the
 *       upper end of the always-valid confidence sequence below the threshold; anything else, or
 *       too few samples, is INCONCLUSIVE;
 *   <li>a critical FAIL: ROLLBACK; a non-critical FAIL: HOLD, and ROLLBACK once {@code failLimit}
 *       windows in a row failed;
 *   <li>every guardrail PASS and the step's minimum event time and samples per arm met: ADVANCE to
 *       the next step, or PROMOTE when the next step is 100 %; otherwise HOLD.
 * </ol>
 *
 * <p>Why sequential: a fixed-horizon test applied after every window rejects a true null far more
 * often than its α over a rollout (the "peeking" problem); the mSPRT's error bound holds over all
 * looks at once. Hysteresis comes from the same place: the test runs on the rollout's cumulative
 * data, so one noisy window cannot flip it, and non-critical guardrails need several failed windows
 * in a row. After ROLLBACK or PROMOTE the judge is done and returns null.
 */
public final class Judge implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Named in every guardrail result. */
    public static final String TEST =
            "mSPRT, one-sided half-normal mixture |N(0, tau^2)| (Johari et al. 2017; Howard et al. 2021); always-valid p, Holm";

    private final RolloutPolicy policy;

    /** The policy's fields as the state keeps them, written once. */
    private final String policyLines;

    private int step;
    private long stepStartedAt = Long.MIN_VALUE;
    private long rolloutStartedAt = Long.MIN_VALUE;
    private ArmCounts stepControl = ArmCounts.NONE;
    private ArmCounts stepCandidate = ArmCounts.NONE;
    private ArmCounts control = ArmCounts.NONE;
    private ArmCounts candidate = ArmCounts.NONE;

    /** Every window with traffic, used or not, for the rollout's sample-ratio check. */
    private ArmCounts splitControl = ArmCounts.NONE;

    private ArmCounts splitCandidate = ArmCounts.NONE;
    private double srmRunningP = 1.0;
    private double srmUnitsRunningP = 1.0;
    private final double[] runningP;

    /** Per guardrail, its test (one class per kind), in the policy's order. */
    private final GuardrailTest[] tests;

    private int failedInARow;
    private boolean done;

    /** Since an INCONCLUSIVE step: harm is judged, the ramp waits for a person. */
    private boolean awaiting;

    /** The planned final look was taken (once per rollout phase: see FINAL_SHARE). */
    private boolean finalLookTaken;

    /** Whether every guardrail had its minimum samples at this look (not state). */
    private transient boolean allTested;

    /** This look's verdict is a maximum duration's (not state: it holds for one look). */
    private transient boolean timingOut;

    private boolean shadow;
    private boolean ab;
    private double share = 0.5;

    public Judge(RolloutPolicy policy) {
        this(policy, 0);
    }

    /**
     * A judge whose rollout already runs at {@code percent} of candidate traffic: it starts at the
     * highest step of the schedule not above it (the first step if all are).
     */
    public Judge(RolloutPolicy policy, double percent) {
        this.policy = policy;
        this.policyLines = lines(policy.toFields());
        this.runningP = new double[policy.guardrails().size()];
        Arrays.fill(runningP, 1.0);
        this.tests = new GuardrailTest[policy.guardrails().size()];
        freshTests();
        for (int i = 0; i < policy.schedule().size(); i++) {
            if (policy.schedule().get(i) <= percent) {
                step = i;
            }
        }
    }

    /**
     * A judge of a two-variant A/B test: the split is fixed, so there is no ramp; once every
     * guardrail passes, the candidate variant is PROMOTEd.
     */
    public static Judge forAb(RolloutPolicy policy) {
        Judge judge = new Judge(policy, 0);
        judge.ab = true;
        return judge;
    }

    /**
     * A judge of a shadow experiment: the candidate scores every event unserved, and its first
     * ADVANCE starts a canary at the schedule's first step.
     */
    public static Judge forShadow(RolloutPolicy policy) {
        Judge judge = new Judge(policy, 0);
        judge.shadow = true;
        return judge;
    }

    /**
     * {@code old}'s counts, steps and flags with this (fresh) judge's tests and policy lines: for a
     * judge deserialized from a version that had neither.
     */
    private JudgeState stateWith(Judge old) {
        JudgeState fresh = state();
        double[] running =
                old.runningP != null && old.runningP.length == runningP.length
                        ? old.runningP
                        : runningP;
        return new JudgeState(
                fresh.policy(),
                old.step,
                old.stepStartedAt,
                old.rolloutStartedAt,
                old.stepControl,
                old.stepCandidate,
                old.control,
                old.candidate,
                old.splitControl,
                old.splitCandidate,
                old.srmRunningP,
                old.srmUnitsRunningP,
                running.clone(),
                null,
                null,
                null,
                old.failedInARow,
                old.done,
                old.shadow,
                old.ab,
                old.share,
                null,
                null,
                null,
                old.awaiting,
                old.finalLookTaken,
                null);
    }

    /** What this judge remembers, typed (see {@link JudgeState}). */
    public JudgeState state() {
        GuardrailState[] guardrails = new GuardrailState[tests.length];
        for (int i = 0; i < tests.length; i++) {
            MixtureTest exact = tests[i].exact();
            guardrails[i] =
                    new GuardrailState(
                            tests[i].guardrail.spec(),
                            runningP[i],
                            exact == null ? null : exact.harmLogs(),
                            exact == null ? null : exact.passLogs());
        }
        return new JudgeState(
                policyLines,
                step,
                stepStartedAt,
                rolloutStartedAt,
                stepControl,
                stepCandidate,
                control,
                candidate,
                splitControl,
                splitCandidate,
                srmRunningP,
                srmUnitsRunningP,
                null,
                null,
                null,
                null,
                failedInARow,
                done,
                shadow,
                ab,
                share,
                null,
                null,
                null,
                awaiting,
                finalLookTaken,
                guardrails);
    }

    /**
     * The judge a {@link JudgeState} describes. Fields a state from an older version lacks (null)
     * take their starting values; a state from before typed guardrail states has its tests read
     * from the parallel arrays it kept (the migration).
     */
    public static Judge restore(JudgeState s) {
        Judge j = new Judge(policyOf(s.policy()), 0);
        j.step = s.step();
        j.stepStartedAt = s.stepStartedAt();
        // a field a state from an older version lacks reads as 0: take its starting value
        j.rolloutStartedAt = s.rolloutStartedAt() == 0 ? s.stepStartedAt() : s.rolloutStartedAt();
        j.stepControl = orNone(s.stepControl());
        j.stepCandidate = orNone(s.stepCandidate());
        j.control = orNone(s.control());
        j.candidate = orNone(s.candidate());
        j.splitControl = orNone(s.splitControl());
        j.splitCandidate = orNone(s.splitCandidate());
        j.srmRunningP = s.srmRunningP() > 0 ? s.srmRunningP() : 1.0;
        j.srmUnitsRunningP = s.srmUnitsRunningP() > 0 ? s.srmUnitsRunningP() : 1.0;
        GuardrailState[] g = s.guardrails();
        if (g != null && g.length == j.tests.length) {
            for (int i = 0; i < g.length; i++) {
                j.runningP[i] = g[i].runningP() > 0 ? g[i].runningP() : 1.0;
                MixtureTest exact = j.tests[i].exact();
                if (exact != null) {
                    exact.restore(g[i].harmLogs(), g[i].passLogs());
                }
            }
        } else {
            legacyTests(j, s);
        }
        j.failedInARow = s.failedInARow();
        j.done = s.done();
        j.shadow = s.shadow();
        j.ab = s.ab();
        j.share = s.share();
        j.awaiting = s.awaiting();
        j.finalLookTaken = s.finalLookTaken();
        return j;
    }

    /**
     * A state from before typed guardrail states: running p-values in one array, the relative and
     * latency guardrails' e-processes in parallel arrays indexed by guardrail.
     */
    private static void legacyTests(Judge j, JudgeState s) {
        if (s.runningP() != null && s.runningP().length == j.runningP.length) {
            System.arraycopy(s.runningP(), 0, j.runningP, 0, j.runningP.length);
        }
        for (int i = 0; i < j.tests.length; i++) {
            MixtureTest exact = j.tests[i].exact();
            boolean ratio = j.tests[i] instanceof RelativeRateTest;
            double[][] harm = ratio ? s.ratioHarmLogs() : s.quantileHarmLogs();
            double[][] pass = ratio ? s.ratioPassLogs() : s.quantilePassLogs();
            if (exact != null
                    && harm != null
                    && pass != null
                    && i < harm.length
                    && i < pass.length) {
                exact.restore(harm[i], pass[i]);
            }
        }
    }

    /** Policies read back from states, by their lines: a state is restored at every window. */
    private static final java.util.Map<String, RolloutPolicy> POLICIES =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static RolloutPolicy policyOf(String lines) {
        if (POLICIES.size() > 1_000) {
            POLICIES.clear(); // policies change rarely: a bound, not an eviction policy
        }
        return POLICIES.computeIfAbsent(
                lines, l -> RolloutPolicy.fromFields(fields(l), "judge state: "));
    }

    private static String lines(java.util.Map<String, String> fields) {
        StringBuilder s = new StringBuilder();
        fields.forEach((k, v) -> s.append(k).append('=').append(v).append('\n'));
        return s.toString();
    }

    private static java.util.Map<String, String> fields(String lines) {
        java.util.Map<String, String> fields = new java.util.LinkedHashMap<>();
        for (String line : lines.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                fields.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return fields;
    }

    private static ArmCounts orNone(ArmCounts c) {
        return c == null ? ArmCounts.NONE : c;
    }

    /**
     * A judge read from an older version's Java serialization: the fields that version lacked are
     * null or zero; they take their starting values.
     */
    public Judge repairedAfterLegacyRestore() {
        // a judge of a version before typed guardrail tests has no tests (nor policy lines): its
        // tests start over, which can only delay a decision
        JudgeState s = tests == null ? new Judge(policy, 0).stateWith(this) : state();
        return restore(
                new JudgeState(
                        s.policy(),
                        s.step(),
                        s.stepStartedAt(),
                        rolloutStartedAt == 0 ? stepStartedAt : rolloutStartedAt,
                        s.stepControl(),
                        s.stepCandidate(),
                        s.control(),
                        s.candidate(),
                        s.splitControl(),
                        s.splitCandidate(),
                        srmRunningP == 0 ? 1.0 : srmRunningP,
                        srmUnitsRunningP == 0 ? 1.0 : srmUnitsRunningP,
                        s.runningP(),
                        null,
                        null,
                        null,
                        s.failedInARow(),
                        s.done(),
                        s.shadow(),
                        s.ab(),
                        s.share(),
                        null,
                        null,
                        null,
                        false,
                        false,
                        s.guardrails()));
    }

    /**
     * Ends the rollout by hand (an ABORT or PROMOTE command): the verdict says who and why, with no
     * guardrail evidence.
     */
    public Verdict override(Verdict.Action action, long at, String reason) {
        if (action != Verdict.Action.ROLLBACK && action != Verdict.Action.PROMOTE) {
            throw new IllegalArgumentException("only ROLLBACK or PROMOTE can be forced");
        }
        double from = currentPercent();
        Evidence none = new Evidence(at, at, ArmCounts.NONE, ArmCounts.NONE, 0.5, true);
        return end(action, from, none, null, List.of(), List.of(reason));
    }

    public RolloutPolicy policy() {
        return policy;
    }

    /** The current step's candidate traffic, percent (0 after a rollback and in shadow mode). */
    public double currentPercent() {
        return step < 0 || shadow || ab ? 0 : policy.schedule().get(step);
    }

    public boolean done() {
        return done;
    }

    /** Judges one window; null once the rollout has ended. */
    public Verdict judge(Evidence e) {
        if (done) {
            return null;
        }
        timingOut = false;
        if (stepStartedAt == Long.MIN_VALUE) {
            stepStartedAt = e.windowStart();
        }
        if (rolloutStartedAt == Long.MIN_VALUE) {
            rolloutStartedAt = e.windowStart();
        }
        double from = currentPercent();
        List<String> reasons = new ArrayList<>();
        if (!e.candidateLoadable()) {
            reasons.add("the candidate version cannot be loaded");
            return end(Verdict.Action.ROLLBACK, from, e, null, List.of(), reasons);
        }
        if (e.control().attempts() == 0 || e.candidate().attempts() == 0) {
            // one arm silent while the other has traffic is a split too: the rollout's check
            // counts it (a candidate that loses all of its traffic must not wait for a timeout)
            Verdict.Srm split =
                    e.control().attempts() + e.candidate().attempts() > 0 ? srm(e) : null;
            if (split != null && split.rolloutP() < policy.srmP()) {
                return srmEnd(split, from, e, reasons);
            }
            reasons.add(
                    String.format(
                            "no traffic in the window (control %d, candidate %d scorings)",
                            e.control().attempts(), e.candidate().attempts()));
            return orTimeout(Verdict.Action.NO_DATA, from, e, split, List.of(), reasons);
        }
        Verdict.Srm srm = srm(e);
        if (srm.rolloutP() < policy.srmP()) {
            return srmEnd(srm, from, e, reasons);
        }
        if (srm.pValue() < policy.srmP()) {
            reasons.add(
                    String.format(
                            "sample ratio mismatch: candidate %d vs control %d, expected share %.3f, chi2 %.2f (design effect %.2f), p %.2g < %.2g; the window is not used",
                            srm.candidate(),
                            srm.control(),
                            srm.expectedCandidateShare(),
                            srm.statistic(),
                            srm.designEffect(),
                            srm.pValue(),
                            policy.srmP()));
            return orTimeout(Verdict.Action.UNHEALTHY, from, e, srm, List.of(), reasons);
        }
        return judgeGuardrails(e, from, srm, reasons);
    }

    /** A mismatch of the rollout's split: the rollout ends. */
    private Verdict srmEnd(Verdict.Srm srm, double from, Evidence e, List<String> reasons) {
        {
            reasons.add(
                    String.format(
                            "sample ratio mismatch over the rollout: candidate %d vs control %d scorings where the plan expects a candidate share of %.3f (always-valid p %.2g < %.2g): the candidate loses or gains traffic, so its guardrails cannot be trusted",
                            srm.rolloutCandidate(),
                            srm.rolloutControl(),
                            srm.expectedCandidateShare(),
                            srm.rolloutP(),
                            policy.srmP()));
            return end(Verdict.Action.ROLLBACK, from, e, srm, List.of(), reasons);
        }
    }

    private Verdict judgeGuardrails(
            Evidence e, double from, Verdict.Srm srm, List<String> reasons) {
        control = control.plus(e.control());
        candidate = candidate.plus(e.candidate());
        share = e.candidateShare();
        stepControl = stepControl.plus(e.control());
        stepCandidate = stepCandidate.plus(e.candidate());
        for (GuardrailTest t : tests) {
            t.observe(e);
        }

        // the first look at which the step or the rollout reaches its maximum duration is the
        // planned final look, once per rollout (see FINAL_SHARE)
        boolean horizon = !awaiting && !finalLookTaken && atMaximumDuration(e);
        List<Verdict.GuardrailResult> results = guardrails(horizon);
        finalLookTaken |= horizon;
        if (results.isEmpty()) {
            // e.g. a shadow judged on flip_rate alone, now a canary: nothing may move it but time
            reasons.add(
                    "no guardrail judges this phase (flip_rate judges the shadow phase only); holding until the step's maximum duration");
            return orTimeout(Verdict.Action.HOLD, from, e, srm, results, reasons);
        }
        boolean criticalFail = false;
        boolean fail = false;
        boolean allPass = true;
        for (Verdict.GuardrailResult r : results) {
            if (r.result() == Verdict.Result.FAIL) {
                fail = true;
                criticalFail |= r.guardrail().critical();
                reasons.add(r.reason());
            }
            allPass &= r.result() == Verdict.Result.PASS;
        }
        if (criticalFail) {
            return end(Verdict.Action.ROLLBACK, from, e, srm, results, reasons);
        }
        if (fail) {
            failedInARow++;
            if (failedInARow >= policy.failLimit()) {
                reasons.add(failedInARow + " windows in a row failed a guardrail");
                return end(Verdict.Action.ROLLBACK, from, e, srm, results, reasons);
            }
            if (horizon) {
                // the planned final look is the last word: no later look carries its fixed test
                reasons.add("a guardrail failed at the planned final look (the maximum duration)");
                return end(Verdict.Action.ROLLBACK, from, e, srm, results, reasons);
            }
            reasons.add(
                    String.format(
                            "holding: %d of %d failed windows before a rollback",
                            failedInARow, policy.failLimit()));
            return orTimeout(Verdict.Action.HOLD, from, e, srm, results, reasons);
        }
        failedInARow = 0;
        long elapsed = e.windowEnd() - stepStartedAt;
        long fewest = Math.min(stepControl.attempts(), stepCandidate.attempts());
        // below the last step a canary may move on without every guardrail passing, unless its
        // policy asks for it: no harm shown is what a small step can tell (see AdvanceOn)
        // ... once every guardrail has been tested on its minimum samples: a harm test that has not
        // run (labels still on their way) is no evidence of no harm
        boolean onNoHarm =
                !allPass
                        && allTested
                        && policy.advanceOn() == RolloutPolicy.AdvanceOn.NO_HARM
                        && !shadow
                        && !ab
                        && !lastStep();
        if (!allPass) {
            for (Verdict.GuardrailResult r : results) {
                if (r.result() != Verdict.Result.PASS) {
                    reasons.add(r.reason());
                }
            }
            if (!onNoHarm) {
                return orTimeout(Verdict.Action.HOLD, from, e, srm, results, reasons);
            }
        }
        String met = allPass ? "every guardrail passes" : "no guardrail fails";
        if (elapsed < policy.minStepMillis() || fewest < policy.minSamples()) {
            reasons.add(
                    String.format(
                            "%s; the step needs %d ms and %d samples per arm, has %d ms and %d",
                            met, policy.minStepMillis(), policy.minSamples(), elapsed, fewest));
            return orTimeout(Verdict.Action.HOLD, from, e, srm, results, reasons);
        }
        if (srm.rolloutP() < policy.alpha()) {
            // not proof of a mismatch (that ends the rollout at srm-p), but no ground to move on
            reasons.add(
                    String.format(
                            "%s, but the split over the rollout looks off (always-valid p %.2g < alpha %.2g: candidate %d vs control %d scorings, %d vs %d active units); not moving on",
                            met,
                            srm.rolloutP(),
                            policy.alpha(),
                            srm.rolloutCandidate(),
                            srm.rolloutControl(),
                            srm.rolloutCandidateUnits(),
                            srm.rolloutControlUnits()));
            return orTimeout(Verdict.Action.HOLD, from, e, srm, results, reasons);
        }
        if (awaiting) {
            reasons.add(
                    met
                            + ", but the rollout waits for a person since an inconclusive step (RESUME, PROMOTE or ABORT)");
            return verdict(Verdict.Action.HOLD, from, from, e, srm, results, reasons);
        }
        if (onNoHarm) {
            step++;
            stepStartedAt = e.windowEnd();
            stepControl = ArmCounts.NONE;
            stepCandidate = ArmCounts.NONE;
            reasons.add(
                    "no guardrail fails and the step's minimum time and samples are met: the next step (advance-on no-harm; the promotion needs every guardrail to pass)");
            return verdict(
                    Verdict.Action.ADVANCE, from, currentPercent(), e, srm, results, reasons);
        }
        if ((ab || shadow || lastStep()) && losesScorings()) {
            // routing counts what it sends: a candidate that does not report all of it hides
            // outcomes, good or bad, and is not promoted on what it chose to report
            reasons.add(
                    String.format(
                            "every guardrail passes, but the candidate lost %d of the %d events routed to it (never scored nor reported as failing; the control lost %d of %d): not promoting",
                            candidate.lost(),
                            candidate.n(Guardrail.Metric.INFERENCE_ERROR_RATE),
                            control.lost(),
                            control.n(Guardrail.Metric.INFERENCE_ERROR_RATE)));
            return orTimeout(Verdict.Action.HOLD, from, e, srm, results, reasons);
        }
        reasons.add("every guardrail passes and the step's minimum time and samples are met");
        if (ab) {
            return end(Verdict.Action.PROMOTE, from, e, srm, results, reasons);
        }
        if (shadow) {
            shadow = false; // from the shadow to the first canary step, with fresh tests
            step = 0;
            control = ArmCounts.NONE;
            candidate = ArmCounts.NONE;
            splitControl = ArmCounts.NONE;
            splitCandidate = ArmCounts.NONE;
            srmRunningP = 1.0;
            srmUnitsRunningP = 1.0;
            Arrays.fill(runningP, 1.0);
            freshTests();
            finalLookTaken = false;
            stepStartedAt = e.windowEnd();
            stepControl = ArmCounts.NONE;
            stepCandidate = ArmCounts.NONE;
            return verdict(
                    Verdict.Action.ADVANCE, from, currentPercent(), e, srm, results, reasons);
        }
        if (lastStep()) {
            return end(Verdict.Action.PROMOTE, from, e, srm, results, reasons);
        }
        step++;
        stepStartedAt = e.windowEnd();
        stepControl = ArmCounts.NONE;
        stepCandidate = ArmCounts.NONE;
        return verdict(Verdict.Action.ADVANCE, from, currentPercent(), e, srm, results, reasons);
    }

    /**
     * The share of α a guardrail tested against an increase keeps for its planned final look: the
     * always-valid mixture runs at α·(1 − FINAL_SHARE) at every look, and at the first look at
     * which the step or the rollout reaches its maximum duration a fixed-horizon z-test runs once,
     * at the critical value that spends what the mixture leaves of α ({@link FinalLook}; at least
     * the Bonferroni share α·FINAL_SHARE). The maximum durations make the rollout's largest sample
     * known in advance, where a group-sequential design with a final analysis is more powerful than
     * a mixture alone (Schultzberg and Ankargren, "Choosing a sequential testing framework for
     * online experiments", 2023): evidence the mixture would still call too thin at the horizon
     * decides there, instead of a timeout.
     */
    static final double FINAL_SHARE = 0.5;

    /**
     * Builds the planned final look's critical values for {@code alpha} in the background ({@link
     * FinalLook}: about a second), so that no judge waits for them at its first final look.
     */
    public static void prepareFinalLook(double alpha) {
        FinalLook.warm(alpha);
    }

    /** Whether the window ends at or past the step's or the rollout's maximum duration. */
    private boolean atMaximumDuration(Evidence e) {
        return e.windowEnd() - stepStartedAt >= policy.maxStepMillis()
                || e.windowEnd() - rolloutStartedAt >= policy.maxRolloutMillis();
    }

    /**
     * Whether the candidate lost a larger share of the events routed to it than the control did
     * (both counted exactly: routing is deterministic; 0 where routing is not counted).
     */
    private boolean losesScorings() {
        long k = candidate.n(Guardrail.Metric.INFERENCE_ERROR_RATE);
        long c = control.n(Guardrail.Metric.INFERENCE_ERROR_RATE);
        return candidate.lost() > 0
                && (c == 0 || (double) candidate.lost() / k > (double) control.lost() / c);
    }

    /** Whether the step is a canary's last before 100 %: moving on from it is the promotion. */
    private boolean lastStep() {
        return step + 1 >= policy.schedule().size() || policy.schedule().get(step + 1) >= 100;
    }

    /**
     * A person answered an INCONCLUSIVE step with RESUME: the ramp may move again, and the step's
     * and the rollout's maximum durations count afresh from the next window judged.
     */
    public void resume() {
        if (awaiting) {
            awaiting = false;
            stepStartedAt = Long.MIN_VALUE;
            rolloutStartedAt = Long.MIN_VALUE;
        }
    }

    /** Whether the rollout waits for a person since an INCONCLUSIVE step. */
    public boolean awaiting() {
        return awaiting;
    }

    /**
     * The verdict {@code action} that keeps the step, unless the step or the rollout has reached
     * its maximum duration (event time): then the policy's timeout action, saying why —
     * INCONCLUSIVE (the rollout waits for a person, see {@link Verdict.Action#INCONCLUSIVE}),
     * ROLLBACK or PROMOTE. A rollout waiting for a person has no maximum duration.
     */
    private Verdict orTimeout(
            Verdict.Action action,
            double from,
            Evidence e,
            Verdict.Srm srm,
            List<Verdict.GuardrailResult> results,
            List<String> reasons) {
        long step = e.windowEnd() - stepStartedAt;
        long rollout = e.windowEnd() - rolloutStartedAt;
        String which =
                step >= policy.maxStepMillis()
                        ? String.format(
                                "the step at %s %% has lasted %d ms, its maximum (max-step-duration) is %d ms",
                                from, step, policy.maxStepMillis())
                        : rollout >= policy.maxRolloutMillis()
                                ? String.format(
                                        "the rollout has lasted %d ms, its maximum (max-duration) is %d ms",
                                        rollout, policy.maxRolloutMillis())
                                : null;
        if (which == null || awaiting) {
            if (awaiting) {
                reasons = new ArrayList<>(reasons);
                reasons.add(
                        "the rollout waits for a person since an inconclusive step (RESUME, PROMOTE or ABORT); a guardrail's failure still rolls it back");
            }
            return verdict(action, from, from, e, srm, results, reasons);
        }
        List<String> all = new ArrayList<>(reasons);
        Verdict.Action ending = policy.timeoutAction();
        timingOut = true;
        if (ending == Verdict.Action.INCONCLUSIVE) {
            awaiting = true;
            all.add(
                    which
                            + " without a decision: INCONCLUSIVE, the rollout stays at "
                            + from
                            + " % and waits for a person (RESUME, PROMOTE or ABORT; timeout-action pause); a guardrail's failure still rolls it back");
            return verdict(Verdict.Action.INCONCLUSIVE, from, from, e, srm, results, all);
        }
        boolean failing = results.stream().anyMatch(r -> r.result() == Verdict.Result.FAIL);
        if (ending == Verdict.Action.PROMOTE && (failing || losesScorings())) {
            ending = Verdict.Action.ROLLBACK; // never promote over evidence of harm, or losses
            all.add(
                    which
                            + (failing
                                    ? " with a guardrail failing"
                                    : " with scorings lost on the way")
                            + ": ROLLBACK, not the timeout-action's PROMOTE");
        } else if (ending == Verdict.Action.PROMOTE
                && Math.min(control.attempts(), candidate.attempts()) < policy.minSamples()) {
            ending = Verdict.Action.ROLLBACK; // never promote what was hardly measured
            all.add(
                    which
                            + " without a decision, and too few samples to promote (control "
                            + control.attempts()
                            + ", candidate "
                            + candidate.attempts()
                            + ", min-samples "
                            + policy.minSamples()
                            + "): ROLLBACK");
        } else {
            all.add(which + " without a decision: " + ending.name() + " (timeout-action)");
        }
        return end(ending, from, e, srm, results, all);
    }

    private Verdict end(
            Verdict.Action action,
            double from,
            Evidence e,
            Verdict.Srm srm,
            List<Verdict.GuardrailResult> results,
            List<String> reasons) {
        done = true;
        double to = action == Verdict.Action.PROMOTE ? 100 : 0;
        step = action == Verdict.Action.PROMOTE ? step : -1;
        return verdict(action, from, to, e, srm, results, reasons);
    }

    private Verdict verdict(
            Verdict.Action action,
            double from,
            double to,
            Evidence e,
            Verdict.Srm srm,
            List<Verdict.GuardrailResult> results,
            List<String> reasons) {
        return new Verdict(
                action,
                policy.dryRun(),
                from,
                to,
                e.windowStart(),
                e.windowEnd(),
                e.control(),
                e.candidate(),
                srm,
                List.copyOf(results),
                List.copyOf(reasons),
                timingOut,
                awaiting && !done);
    }

    /**
     * The window's sample-ratio check, and the rollout's: the candidate's share of scorings against
     * the plan's, with the variance of a split of units (see {@link Verdict.Srm}).
     */
    private Verdict.Srm srm(Evidence e) {
        double s = e.candidateShare();
        ArmCounts c = e.control();
        ArmCounts k = e.candidate();
        double f2 = squares(c, k, UnitSketch.Quantity.ATTEMPTS, c.attempts() + k.attempts());
        double chi2 = chiSquare(c.attempts(), k.attempts(), s, f2);
        boolean units = c.activeUnits() + k.activeUnits() > 0;
        double unitsChi2 =
                units
                        ? chiSquare(
                                c.activeUnits(),
                                k.activeUnits(),
                                s,
                                squares(
                                        c,
                                        k,
                                        UnitSketch.Quantity.ACTIVE,
                                        c.activeUnits() + k.activeUnits()))
                        : 0;
        double p = SpecialFunctions.chiSquareSurvival(chi2, 1);
        if (units) {
            p = Math.min(1, 2 * Math.min(p, SpecialFunctions.chiSquareSurvival(unitsChi2, 1)));
        }

        splitControl = splitControl.plus(c);
        splitCandidate = splitCandidate.plus(k);
        ArmCounts sc = splitControl;
        ArmCounts sk = splitCandidate;
        srmRunningP =
                Math.min(
                        srmRunningP,
                        shareP(
                                sc.attempts(),
                                sk.attempts(),
                                s,
                                squares(
                                        sc,
                                        sk,
                                        UnitSketch.Quantity.ATTEMPTS,
                                        sc.attempts() + sk.attempts())));
        double rolloutP = srmRunningP;
        if (sc.activeUnits() + sk.activeUnits() > 0) {
            srmUnitsRunningP =
                    Math.min(
                            srmUnitsRunningP,
                            shareP(
                                    sc.activeUnits(),
                                    sk.activeUnits(),
                                    s,
                                    squares(
                                            sc,
                                            sk,
                                            UnitSketch.Quantity.ACTIVE,
                                            sc.activeUnits() + sk.activeUnits())));
            rolloutP = Math.min(1, 2 * Math.min(srmRunningP, srmUnitsRunningP));
        }
        return new Verdict.Srm(
                chi2,
                p,
                s,
                c.attempts(),
                k.attempts(),
                f2 / (c.attempts() + k.attempts()),
                c.activeUnits(),
                k.activeUnits(),
                unitsChi2,
                rolloutP,
                sc.attempts(),
                sk.attempts(),
                sc.activeUnits(),
                sk.activeUnits());
    }

    /** (candidate − s·total)² / (v(s)·Σ_u q_u²), v(s) the {@link #splitVariance}. */
    private static double chiSquare(long control, long candidate, double s, double squares) {
        double d = candidate - s * (control + candidate);
        return d * d / (splitVariance(s) * squares);
    }

    /**
     * The variance factor of a unit's side of the split: s(1 − s) at s = 1/2, else the optimal
     * sub-Gaussian variance proxy of a Bernoulli(s), (1 − 2s) / (2 ln((1 − s)/s)) (Kearns and Saul,
     * 1998), which is larger. With an unequal split a few heavy units in the small arm make the
     * sum's tail heavier than its variance says; the proxy keeps the normal tail a bound.
     */
    static double splitVariance(double s) {
        if (Math.abs(s - 0.5) < 1e-9) {
            return 0.25;
        }
        return (1 - 2 * s) / (2 * Math.log((1 - s) / s));
    }

    /** This look's always-valid p-value of the candidate's share of a total against s. */
    private static double shareP(long control, long candidate, double s, double squares) {
        double total = control + candidate;
        double v = splitVariance(s) * squares / (total * total);
        return MixtureSprt.pValue(candidate / total - s, 0, v, SRM_TAU * SRM_TAU);
    }

    /** The split's sensitivity: one point of candidate share. */
    private static final double SRM_TAU = 0.01;

    /**
     * Σ_u q_u² over both arms' units, q_u a unit's total of a whole-numbered quantity: from the
     * arms' sketches, at least Σ_u q_u = {@code total} (each q_u ≥ 1); {@code total} without
     * sketches.
     */
    private static double squares(
            ArmCounts control, ArmCounts candidate, UnitSketch.Quantity q, double total) {
        UnitSketch a = control.units();
        UnitSketch b = candidate.units();
        if (a == null && b == null) {
            return total;
        }
        double sum = 0;
        for (UnitSketch u : new UnitSketch[] {a, b}) {
            if (u != null) {
                sum += u.sumOfSquares(q);
            }
        }
        return Math.max(total, sum);
    }

    /**
     * Tests every guardrail that applies in this phase on the rollout's counts so far (each kind
     * its own {@link GuardrailTest}); Holm across their harm p-values.
     */
    private List<Verdict.GuardrailResult> guardrails(boolean horizon) {
        List<Guardrail> all = policy.guardrails();
        int m = all.size();
        GuardrailTest.Look look =
                new GuardrailTest.Look(control, candidate, share, policy.alpha(), horizon);
        GuardrailTest.Assessment[] assessed = new GuardrailTest.Assessment[m];
        boolean[] enough = new boolean[m];
        // this look's p-value; a non-critical guardrail fails on it, not on the running minimum
        double[] lookP = new double[m];
        Arrays.fill(lookP, 1.0);
        for (int i = 0; i < m; i++) {
            Guardrail g = all.get(i);
            if (!applies(g)) {
                continue;
            }
            long nc = candidate.n(g.metric());
            // a flip rate is the candidate's alone (paired with the served baseline)
            long nb = g.metric() == Guardrail.Metric.FLIP_RATE ? nc : control.n(g.metric());
            // no gate on units: a dominant unit makes the variance over units large (the evidence
            // weighs less), it does not stop the judge
            enough[i] = nb >= policy.minSamples() && nc >= policy.minSamples();
            if (nb == 0 || nc == 0) {
                continue;
            }
            assessed[i] = tests[i].assess(look);
            enough[i] &= assessed[i].testable();
            if (enough[i]) {
                // the running minimum over the looks judged (not those before the guardrail had
                // enough samples)
                runningP[i] = Math.min(runningP[i], assessed[i].harmP());
                lookP[i] = assessed[i].harmP();
            }
        }
        // A critical guardrail fails once its test has ever rejected (running minimum: the first
        // crossing). A non-critical one fails in a window when its test rejects at that look, so
        // evidence of harm that recedes stops failing, and fail-limit counts real repeats; each
        // look's rejection is within the event that the running minimum rejects, so α holds.
        // Holm over the guardrails that apply in this phase
        double[] tested = new double[m];
        int[] applying =
                java.util.stream.IntStream.range(0, m).filter(i -> applies(all.get(i))).toArray();
        double[] testedApplying = new double[applying.length];
        for (int k = 0; k < applying.length; k++) {
            int i = applying[k];
            tested[i] = all.get(i).critical() ? runningP[i] : lookP[i];
            testedApplying[k] = tested[i];
        }
        boolean[] rejectedApplying = Holm.rejected(testedApplying, policy.alpha());
        allTested = true;
        for (int i : applying) {
            allTested &= enough[i];
        }
        List<Verdict.GuardrailResult> out = new ArrayList<>();
        for (int k = 0; k < applying.length; k++) {
            int i = applying[k];
            Guardrail g = all.get(i);
            GuardrailTest.Assessment a = assessed[i];
            long nc = candidate.n(g.metric());
            long nb = g.metric() == Guardrail.Metric.FLIP_RATE ? nc : control.n(g.metric());
            Verdict.Result result;
            String reason;
            if (!enough[i]) {
                result = Verdict.Result.INCONCLUSIVE;
                reason =
                        String.format(
                                "%s: too few samples (control %d, candidate %d; need %d each)",
                                g.metric().wireName(), nb, nc, policy.minSamples());
            } else {
                result =
                        rejectedApplying[k]
                                ? Verdict.Result.FAIL
                                : a.passes() && a.vetoP() <= policy.alpha()
                                        ? Verdict.Result.PASS
                                        : Verdict.Result.INCONCLUSIVE;
                reason = tests[i].reason(a, result, tested[i]);
            }
            out.add(
                    new Verdict.GuardrailResult(
                            g,
                            tests[i].name(look),
                            nb,
                            nc,
                            a == null ? Double.NaN : a.control(),
                            a == null ? Double.NaN : a.candidate(),
                            a == null ? 0 : a.delta(),
                            a == null || !enough[i] ? Double.NaN : a.lower(),
                            a == null || !enough[i] ? Double.NaN : a.upper(),
                            tested[i],
                            result,
                            reason));
        }
        return out;
    }

    private void freshTests() {
        for (int i = 0; i < tests.length; i++) {
            tests[i] = GuardrailTest.of(policy.guardrails().get(i));
        }
    }

    /**
     * Whether a guardrail is judged in this phase: {@code flip_rate} compares a shadow with the
     * served baseline on the same events, so it guards the shadow phase alone; once the shadow has
     * passed into a canary there are no pairs, and it neither holds nor passes the canary.
     */
    private boolean applies(Guardrail g) {
        return g.metric() != Guardrail.Metric.FLIP_RATE || shadow;
    }
}
