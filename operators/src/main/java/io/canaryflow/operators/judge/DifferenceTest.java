package io.canaryflow.operators.judge;

/**
 * An absolute guardrail: the candidate's rate (or mean score) minus the control's, against a
 * tolerated increase, decrease or difference either way; for a shadow's flip rate, the shadow's
 * rate alone. The {@link MixtureSprt mSPRT} on the difference with its variance over units ({@link
 * Statistic}), the candidate's at least its value at the edge of what passes. Against an increase
 * the mixture runs at α·(1 − {@link Judge#FINAL_SHARE}) and the planned final look spends the rest
 * ({@link FinalLook}), and a PASS of a rate also needs the exact universal-inference test ({@link
 * RateDifferenceTest}).
 */
final class DifferenceTest extends GuardrailTest {
    private static final long serialVersionUID = 1L;

    /** Named by the result of a guardrail whose PASS needs the exact test too. */
    static final String EXACT_PASS =
            "; a PASS also needs the exact Beta-binomial e-process (universal inference) for the margin";

    DifferenceTest(Guardrail guardrail) {
        super(guardrail);
    }

    @Override
    Assessment assess(Look look) {
        Guardrail g = guardrail;
        Statistic c = Statistic.of(look.control(), g.metric());
        Statistic k = Statistic.of(look.candidate(), g.metric());
        double delta = k.mean() - c.mean();
        double variance = c.variance() + Math.max(k.variance(), boundaryVariance(c, k));
        double tau2 = g.tau() * g.tau();
        boolean increase = g.direction() == Guardrail.Direction.INCREASE;
        if (!(variance < Double.POSITIVE_INFINITY)) {
            // a single unit carries an arm: its variance over units is unknown
            return new Assessment(
                    c.mean(),
                    k.mean(),
                    delta,
                    Double.NEGATIVE_INFINITY,
                    Double.POSITIVE_INFINITY,
                    1,
                    1,
                    false,
                    0,
                    true);
        }
        double r =
                MixtureSprt.oneSidedRadius(
                        variance, tau2, increase ? look.sequentialAlpha() : look.alpha());
        double lower = delta - r;
        double upper = delta + r; // the pass side's bound
        double harmP;
        double passP = 1;
        boolean passes;
        if (g.direction() == Guardrail.Direction.EITHER) {
            // two-sided: against the nearer edge of [-threshold, +threshold], at α/2 a side
            double outward = Math.abs(delta);
            harmP =
                    outward > g.threshold()
                            ? Math.min(
                                    1,
                                    2
                                            * MixtureSprt.oneSidedPValue(
                                                    outward, g.threshold(), variance, tau2))
                            : 1;
            passes = upper < g.margin() && lower > -g.margin();
        } else if (increase) {
            double sd = Math.sqrt(variance);
            // A shadow's flip rate keeps Bonferroni's split at its final look (u = 0 asks for it).
            // Its false passes exactly at the threshold come from a variance over units that falls
            // with the estimate (passVariance); the split did not change them measurably (9.7 % of
            // heavy-population rollouts either way, docs/calibration.md)
            boolean bonferroni = g.metric() == Guardrail.Metric.FLIP_RATE;
            double u = bonferroni ? 0 : tau2 / variance;
            double seq =
                    delta > g.threshold()
                            ? MixtureSprt.oneSidedPValue(delta, g.threshold(), variance, tau2)
                            : 1;
            harmP =
                    withFinalLook(
                            seq, (delta - g.threshold()) / sd, u, look.alpha(), look.horizon());
            double vPass = passVariance(c, k, variance);
            upper = delta + MixtureSprt.oneSidedRadius(vPass, tau2, look.sequentialAlpha());
            double pass =
                    delta < g.margin()
                            ? MixtureSprt.oneSidedPValue(-delta, -g.margin(), vPass, tau2)
                            : 1;
            passP =
                    withFinalLook(
                            pass,
                            (g.margin() - delta) / Math.sqrt(vPass),
                            bonferroni ? 0 : tau2 / vPass,
                            look.alpha(),
                            look.horizon());
            passes = passP <= look.alpha();
        } else {
            // a decrease harms: the harmful direction as a positive difference
            harmP =
                    -delta > g.threshold()
                            ? MixtureSprt.oneSidedPValue(-delta, g.threshold(), variance, tau2)
                            : 1;
            passes = lower > -g.margin();
        }
        return new Assessment(
                c.mean(),
                k.mean(),
                delta,
                lower,
                upper,
                harmP,
                passP,
                passes,
                passes ? exactPassP(look) : 0,
                true);
    }

    /**
     * The variance of the candidate's rate were it at the edge of what passes: the control's rate
     * plus the margin, p(1 − p)/n, times the candidate's design effect over units. A rate whose few
     * events are low by chance has a plug-in variance that shrinks with them, which makes a
     * candidate near the threshold look safe at rare events; the variance at the boundary (as a
     * score test uses) does not. 0 for the score and for other directions.
     */
    private double boundaryVariance(Statistic control, Statistic candidate) {
        if (!(candidate instanceof Statistic.Proportion k)
                || guardrail.direction() != Guardrail.Direction.INCREASE
                || k.n() == 0) {
            return 0;
        }
        double b = Math.min(1, control.mean() + guardrail.margin());
        return b * (1 - b) / k.n() * k.designEffect();
    }

    /**
     * The variance a PASS is tested with: {@code variance}, and for a rate tested alone (a shadow's
     * flip rate) at least the rate's variance over units were it at the margin, every unit's
     * residual taken against the margin. Where a few heavy units carry the pairs and their own flip
     * rates are low by chance, the estimate and its plug-in variance over units fall together, and
     * a shadow flipping exactly at its threshold passed in 9.7 % of the heavy population's
     * rollouts; against the margin they do not fall together, and it passed in 7.3 %
     * (docs/calibration.md).
     */
    private double passVariance(Statistic control, Statistic candidate, double variance) {
        if (guardrail.metric() != Guardrail.Metric.FLIP_RATE
                || !(candidate instanceof Statistic.Proportion k)) {
            return variance;
        }
        double atMargin = k.overUnitsAt(Math.min(1, control.mean() + guardrail.margin()));
        return Double.isNaN(atMargin)
                ? variance
                : Math.max(variance, control.variance() + atMargin);
    }

    /** Whether a PASS also needs {@link #exactPassP}: absolute increases of rates. */
    private boolean exactPass() {
        return guardrail.metric() != Guardrail.Metric.SCORE_SHIFT
                && guardrail.direction() == Guardrail.Direction.INCREASE;
    }

    /**
     * The exact test's p-value that an absolute, increase-guarded rate is within its margin ({@link
     * RateDifferenceTest}, for independent scorings: the mixture covers the units): at rare events
     * the mixture's normal approximation errs towards a false promotion, the exact test does not. 0
     * (no veto) for the score and other directions.
     */
    private double exactPassP(Look look) {
        if (!exactPass()) {
            return 0;
        }
        Guardrail.Metric m = guardrail.metric();
        ArmCounts c = look.control();
        ArmCounts k = look.candidate();
        if (m == Guardrail.Metric.FLIP_RATE) {
            return RateDifferenceTest.passPAlone(k.events(m), k.n(m), guardrail.margin(), 1);
        }
        return RateDifferenceTest.passP(
                c.events(m), c.n(m), k.events(m), k.n(m), guardrail.margin(), 1);
    }

    @Override
    String reason(Assessment a, Verdict.Result result, double tested) {
        Guardrail g = guardrail;
        boolean twoSided = g.direction() == Guardrail.Direction.EITHER;
        boolean decrease = g.direction() == Guardrail.Direction.DECREASE;
        return switch (result) {
            case FAIL ->
                    String.format(
                            "%s: candidate %.4f vs control %.4f, %+.4f exceeds the allowed %s%.4f (interval [%.4f, %.4f], p %.2g)",
                            metricName(),
                            a.candidate(),
                            a.control(),
                            a.delta(),
                            twoSided ? "±" : decrease ? "-" : "+",
                            g.threshold(),
                            a.lower(),
                            a.upper(),
                            tested);
            case PASS ->
                    String.format(
                            "%s: candidate %.4f vs control %.4f, difference within the margin %s%.4f (interval [%.4f, %.4f])",
                            metricName(),
                            a.candidate(),
                            a.control(),
                            twoSided ? "±" : "+",
                            g.margin(),
                            a.lower(),
                            a.upper());
            case INCONCLUSIVE ->
                    a.passes()
                            // the interval says pass; the exact test of the rate does not yet
                            ? String.format(
                                    "%s: candidate %.4f vs control %.4f, interval [%.4f, %.4f] within +%.4f, not yet the exact test (p %.2g)",
                                    metricName(),
                                    a.candidate(),
                                    a.control(),
                                    a.lower(),
                                    a.upper(),
                                    g.margin(),
                                    a.vetoP())
                            : String.format(
                                    "%s: candidate %.4f vs control %.4f, interval [%.4f, %.4f] still includes +%.4f",
                                    metricName(),
                                    a.candidate(),
                                    a.control(),
                                    a.lower(),
                                    a.upper(),
                                    g.margin());
        };
    }

    @Override
    String name(Look look) {
        Guardrail.Metric m = guardrail.metric();
        // a flip rate is the candidate's alone: the control has no pairs
        boolean overUnits =
                (m == Guardrail.Metric.FLIP_RATE
                                || Double.isFinite(Statistic.of(look.control(), m).overUnits()))
                        && Double.isFinite(Statistic.of(look.candidate(), m).overUnits());
        return Judge.TEST
                + (overUnits
                        ? "; variance over units (cluster-robust delta method), at least the binomial"
                        : "; variance over scorings (binomial)")
                + (exactPass() ? EXACT_PASS : "");
    }
}
