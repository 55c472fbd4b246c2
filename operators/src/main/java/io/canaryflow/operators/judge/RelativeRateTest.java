package io.canaryflow.operators.judge;

/**
 * A relative guardrail ({@code inference_error_rate:+50%}): the ratio of the candidate's rate to
 * the control's. The mixture on the log ratio with its variance over units ({@link
 * DeltaMethodSprt#ratio}) and, beside it, the conditional-binomial e-process exact for independent
 * events ({@link RateRatioTest}): a decision needs both, so it stands whether clustering or rare
 * events are what the data has most.
 */
final class RelativeRateTest extends GuardrailTest {
    private static final long serialVersionUID = 1L;

    /** Named by a relative guardrail's result. */
    static final String NAME =
            "mSPRT on the log rate ratio, its variance over units (cluster-robust delta method; at least its value at the boundary's split of the events), with the conditional-binomial e-process for independent scorings: a decision needs both; one-sided always-valid p, Holm";

    private final RateRatioTest exact;

    RelativeRateTest(Guardrail guardrail) {
        super(guardrail);
        this.exact = new RateRatioTest(guardrail.threshold(), guardrail.margin());
    }

    @Override
    void observe(Evidence e) {
        Guardrail.Metric m = guardrail.metric();
        exact.add(
                e.control().events(m),
                e.control().n(m),
                e.candidate().events(m),
                e.candidate().n(m),
                1);
    }

    @Override
    MixtureTest exact() {
        return exact;
    }

    @Override
    Assessment assess(Look look) {
        Guardrail g = guardrail;
        Guardrail.Metric m = g.metric();
        Statistic.Proportion c = (Statistic.Proportion) Statistic.of(look.control(), m);
        Statistic.Proportion k = (Statistic.Proportion) Statistic.of(look.candidate(), m);
        DeltaMethodSprt.Look l =
                DeltaMethodSprt.ratio(
                        c.events(),
                        c.n(),
                        c.designEffect(),
                        k.events(),
                        k.n(),
                        k.designEffect(),
                        1 + g.threshold(),
                        1 + g.margin(),
                        tau(g),
                        look.sequentialAlpha());
        return bothTests(
                l,
                exact,
                look,
                c.mean(),
                k.mean(),
                Math.expm1(l.estimate()),
                Math.expm1(l.lower()),
                Math.expm1(l.upper()));
    }

    /**
     * The log-ratio mixture's standard deviation: the margin's size on the log scale (at least that
     * of a 10 % increase), the differences the test is most sensitive to.
     */
    static double tau(Guardrail g) {
        return Math.log1p(Math.max(g.margin(), 0.1));
    }

    @Override
    String reason(Assessment a, Verdict.Result result, double tested) {
        return switch (result) {
            case FAIL ->
                    String.format(
                            "%s: candidate %.5f vs control %.5f, %+.1f %% exceeds the allowed +%.1f %% (p %.2g)",
                            metricName(),
                            a.candidate(),
                            a.control(),
                            100 * a.delta(),
                            100 * guardrail.threshold(),
                            tested);
            case PASS ->
                    String.format(
                            "%s: candidate %.5f vs control %.5f (%+.1f %%), below the margin +%.1f %% (p %.2g)",
                            metricName(),
                            a.candidate(),
                            a.control(),
                            100 * a.delta(),
                            100 * guardrail.margin(),
                            a.passP());
            case INCONCLUSIVE ->
                    String.format(
                            "%s: candidate %.5f vs control %.5f (%+.1f %%), neither above +%.1f %% nor below the margin +%.1f %% yet (p %.2g and %.2g)",
                            metricName(),
                            a.candidate(),
                            a.control(),
                            100 * a.delta(),
                            100 * guardrail.threshold(),
                            100 * guardrail.margin(),
                            tested,
                            a.passP());
        };
    }

    @Override
    String name(Look look) {
        Guardrail.Metric m = guardrail.metric();
        boolean overUnits =
                Double.isFinite(Statistic.of(look.control(), m).overUnits())
                        && Double.isFinite(Statistic.of(look.candidate(), m).overUnits());
        return NAME
                + (overUnits
                        ? "; variance over units (cluster-robust delta method), at least the binomial"
                        : "; variance over scorings (binomial)");
    }
}
