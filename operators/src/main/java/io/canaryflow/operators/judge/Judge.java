package io.canaryflow.operators.judge;

import io.canaryflow.operators.drift.ChiSquare;
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
            "mSPRT, normal mixture N(0, tau^2) (Johari et al. 2017); one-sided always-valid p, Holm";

    private final RolloutPolicy policy;
    private int step;
    private long stepStartedAt = Long.MIN_VALUE;
    private ArmCounts stepControl = ArmCounts.NONE;
    private ArmCounts stepCandidate = ArmCounts.NONE;
    private ArmCounts control = ArmCounts.NONE;
    private ArmCounts candidate = ArmCounts.NONE;
    private final double[] runningP;
    private int failedInARow;
    private boolean done;
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
        this.runningP = new double[policy.guardrails().size()];
        Arrays.fill(runningP, 1.0);
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
        if (stepStartedAt == Long.MIN_VALUE) {
            stepStartedAt = e.windowStart();
        }
        double from = currentPercent();
        List<String> reasons = new ArrayList<>();
        if (!e.candidateLoadable()) {
            reasons.add("the candidate version cannot be loaded");
            return end(Verdict.Action.ROLLBACK, from, e, null, List.of(), reasons);
        }
        if (e.control().attempts() == 0 || e.candidate().attempts() == 0) {
            reasons.add(
                    String.format(
                            "no traffic in the window (control %d, candidate %d scorings)",
                            e.control().attempts(), e.candidate().attempts()));
            return verdict(Verdict.Action.NO_DATA, from, from, e, null, List.of(), reasons);
        }
        Verdict.Srm srm = srm(e);
        if (srm.pValue() < policy.srmP()) {
            reasons.add(
                    String.format(
                            "sample ratio mismatch: candidate %d vs control %d, expected share %.3f, chi2 %.2f, p %.2g < %.2g; the window is not used",
                            srm.candidate(),
                            srm.control(),
                            srm.expectedCandidateShare(),
                            srm.statistic(),
                            srm.pValue(),
                            policy.srmP()));
            return verdict(Verdict.Action.UNHEALTHY, from, from, e, srm, List.of(), reasons);
        }
        control = control.plus(e.control());
        candidate = candidate.plus(e.candidate());
        share = e.candidateShare();
        stepControl = stepControl.plus(e.control());
        stepCandidate = stepCandidate.plus(e.candidate());

        List<Verdict.GuardrailResult> results = guardrails();
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
            reasons.add(
                    String.format(
                            "holding: %d of %d failed windows before a rollback",
                            failedInARow, policy.failLimit()));
            return verdict(Verdict.Action.HOLD, from, from, e, srm, results, reasons);
        }
        failedInARow = 0;
        long elapsed = e.windowEnd() - stepStartedAt;
        long fewest = Math.min(stepControl.attempts(), stepCandidate.attempts());
        if (!allPass) {
            for (Verdict.GuardrailResult r : results) {
                if (r.result() != Verdict.Result.PASS) {
                    reasons.add(r.reason());
                }
            }
            return verdict(Verdict.Action.HOLD, from, from, e, srm, results, reasons);
        }
        if (elapsed < policy.minStepMillis() || fewest < policy.minSamples()) {
            reasons.add(
                    String.format(
                            "every guardrail passes; the step needs %d ms and %d samples per arm, has %d ms and %d",
                            policy.minStepMillis(), policy.minSamples(), elapsed, fewest));
            return verdict(Verdict.Action.HOLD, from, from, e, srm, results, reasons);
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
            Arrays.fill(runningP, 1.0);
            stepStartedAt = e.windowEnd();
            stepControl = ArmCounts.NONE;
            stepCandidate = ArmCounts.NONE;
            return verdict(
                    Verdict.Action.ADVANCE, from, currentPercent(), e, srm, results, reasons);
        }
        boolean last =
                step + 1 >= policy.schedule().size() || policy.schedule().get(step + 1) >= 100;
        if (last) {
            return end(Verdict.Action.PROMOTE, from, e, srm, results, reasons);
        }
        step++;
        stepStartedAt = e.windowEnd();
        stepControl = ArmCounts.NONE;
        stepCandidate = ArmCounts.NONE;
        return verdict(Verdict.Action.ADVANCE, from, currentPercent(), e, srm, results, reasons);
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
                List.copyOf(reasons));
    }

    private static Verdict.Srm srm(Evidence e) {
        ChiSquare.Result chi2 =
                ChiSquare.goodnessOfFit(
                        new long[] {e.control().attempts(), e.candidate().attempts()},
                        new double[] {1 - e.candidateShare(), e.candidateShare()});
        return new Verdict.Srm(
                chi2.statistic(),
                chi2.pValue(),
                e.candidateShare(),
                e.control().attempts(),
                e.candidate().attempts());
    }

    /** Tests every guardrail on the cumulative counts; Holm across them. */
    private List<Verdict.GuardrailResult> guardrails() {
        List<Guardrail> all = policy.guardrails();
        int m = all.size();
        double[] delta = new double[m];
        double[] variance = new double[m];
        boolean[] enough = new boolean[m];
        for (int i = 0; i < m; i++) {
            Guardrail g = all.get(i);
            long nc = candidate.n(g.metric());
            // a flip rate is the candidate's alone (paired with the served baseline)
            long nb = g.metric() == Guardrail.Metric.FLIP_RATE ? nc : control.n(g.metric());
            enough[i] = nb >= policy.minSamples() && nc >= policy.minSamples();
            if (nb == 0 || nc == 0) {
                continue;
            }
            if (g.metric() == Guardrail.Metric.SCORE_PSI) {
                long[] kb = control.scoreBins();
                long[] cb = candidate.scoreBins();
                if (kb.length == 0 || kb.length != cb.length) {
                    enough[i] = false;
                    continue;
                }
                delta[i] = psiBetween(cb, kb);
                double p = delta[i] >= g.threshold() ? BinnedMixture.pValue(cb, kb, share) : 1.0;
                if (enough[i]) {
                    runningP[i] = Math.min(runningP[i], p);
                }
                continue;
            }
            delta[i] = mean(candidate, g.metric()) - mean(control, g.metric());
            variance[i] =
                    varianceOfMean(control, g.metric()) + varianceOfMean(candidate, g.metric());
            double tau2 = g.tau() * g.tau();
            double p;
            if (g.direction() == Guardrail.Direction.EITHER) {
                // two-sided: against the nearer edge of [-threshold, +threshold], at α/2 a side
                double edge = Math.copySign(g.threshold(), delta[i]);
                p =
                        Math.abs(delta[i]) > g.threshold()
                                ? Math.min(
                                        1,
                                        2 * MixtureSprt.pValue(delta[i], edge, variance[i], tau2))
                                : 1.0;
            } else {
                // one-sided: the harmful direction as a positive difference
                double harm = g.direction() == Guardrail.Direction.DECREASE ? -delta[i] : delta[i];
                p =
                        harm > g.threshold()
                                ? MixtureSprt.pValue(harm, g.threshold(), variance[i], tau2)
                                : 1.0;
            }
            if (enough[i]) {
                runningP[i] = Math.min(runningP[i], p);
            }
        }
        boolean[] rejected = Holm.rejected(runningP, policy.alpha());
        List<Verdict.GuardrailResult> out = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            Guardrail g = all.get(i);
            long nc = candidate.n(g.metric());
            long nb = g.metric() == Guardrail.Metric.FLIP_RATE ? nc : control.n(g.metric());
            boolean binned = g.metric() == Guardrail.Metric.SCORE_PSI;
            double pb = nb == 0 || binned ? Double.NaN : mean(control, g.metric());
            double pc = nc == 0 || binned ? Double.NaN : mean(candidate, g.metric());
            boolean twoSided = g.direction() == Guardrail.Direction.EITHER;
            boolean decrease = g.direction() == Guardrail.Direction.DECREASE;
            double lower = Double.NaN;
            double upper = Double.NaN;
            Verdict.Result result;
            String reason;
            String name = g.metric().wireName();
            if (g.metric() == Guardrail.Metric.SCORE_PSI && enough[i]) {
                pb = Double.NaN;
                pc = Double.NaN;
                if (rejected[i]) {
                    result = Verdict.Result.FAIL;
                    reason =
                            String.format(
                                    "%s: the candidate's scores fall into bins unlike the control's: PSI %.4f >= %.4f (anytime-valid p %.2g)",
                                    name, delta[i], g.threshold(), runningP[i]);
                } else if (delta[i] < g.threshold()) {
                    result = Verdict.Result.PASS;
                    reason =
                            String.format("%s: PSI %.4f below %.4f", name, delta[i], g.threshold());
                } else {
                    result = Verdict.Result.INCONCLUSIVE;
                    reason =
                            String.format(
                                    "%s: PSI %.4f at or above %.4f, not yet significant (p %.2g)",
                                    name, delta[i], g.threshold(), runningP[i]);
                }
            } else if (!enough[i]) {
                result = Verdict.Result.INCONCLUSIVE;
                reason =
                        String.format(
                                "%s: too few samples (control %d, candidate %d; need %d each)",
                                name, nb, nc, policy.minSamples());
            } else {
                double r = MixtureSprt.radius(variance[i], g.tau() * g.tau(), policy.alpha());
                lower = delta[i] - r;
                upper = delta[i] + r;
                if (rejected[i]) {
                    result = Verdict.Result.FAIL;
                    reason =
                            String.format(
                                    "%s: candidate %.4f vs control %.4f, %+.4f exceeds the allowed %s%.4f (interval [%.4f, %.4f], p %.2g)",
                                    name,
                                    pc,
                                    pb,
                                    delta[i],
                                    twoSided ? "±" : decrease ? "-" : "+",
                                    g.threshold(),
                                    lower,
                                    upper,
                                    runningP[i]);
                } else if ((decrease || upper < g.threshold())
                        && (!(twoSided || decrease) || lower > -g.threshold())) {
                    result = Verdict.Result.PASS;
                    reason =
                            String.format(
                                    "%s: candidate %.4f vs control %.4f, difference below +%.4f (interval [%.4f, %.4f])",
                                    name, pc, pb, g.threshold(), lower, upper);
                } else {
                    result = Verdict.Result.INCONCLUSIVE;
                    reason =
                            String.format(
                                    "%s: candidate %.4f vs control %.4f, interval [%.4f, %.4f] still includes +%.4f",
                                    name, pc, pb, lower, upper, g.threshold());
                }
            }
            out.add(
                    new Verdict.GuardrailResult(
                            g,
                            TEST,
                            nb,
                            nc,
                            pb,
                            pc,
                            delta[i],
                            lower,
                            upper,
                            runningP[i],
                            result,
                            reason));
        }
        return out;
    }

    /** PSI of the candidate's bin counts against the control's fractions (ε = 1e-4). */
    static double psiBetween(long[] candidate, long[] control) {
        return io.canaryflow.operators.drift.Psi.of(
                        candidate,
                        io.canaryflow.operators.drift.DriftMeasures.fractions(control),
                        io.canaryflow.operators.drift.Psi.DEFAULT_EPSILON)
                .value();
    }

    /** The arm's rate, or its mean score. */
    static double mean(ArmCounts arm, Guardrail.Metric metric) {
        long n = arm.n(metric);
        if (metric == Guardrail.Metric.FLIP_RATE && n == 0) {
            return 0; // the control flips against itself never
        }
        return metric == Guardrail.Metric.SCORE_SHIFT
                ? arm.scoreSum() / n
                : (double) arm.events(metric) / n;
    }

    /**
     * The variance of {@link #mean}: for a rate p(1 - p)/n with p estimated as (x + 1/2)/(n + 1),
     * so that an arm without a single error still has a positive variance; for the score the sample
     * variance over n (at least 1e-12, so that constant scores stay testable).
     */
    static double varianceOfMean(ArmCounts arm, Guardrail.Metric metric) {
        long n = arm.n(metric);
        if (metric == Guardrail.Metric.FLIP_RATE && n == 0) {
            return 0;
        }
        if (metric == Guardrail.Metric.SCORE_SHIFT) {
            double mean = arm.scoreSum() / n;
            double var = n > 1 ? (arm.scoreSumSquares() - n * mean * mean) / (n - 1) : 0;
            return Math.max(var, 1e-12) / n;
        }
        double p = (arm.events(metric) + 0.5) / (n + 1.0);
        return p * (1 - p) / n;
    }
}
