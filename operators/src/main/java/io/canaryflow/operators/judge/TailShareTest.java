package io.canaryflow.operators.judge;

/**
 * The latency guardrail {@code latency_p99_ratio:R}: the candidate's p99 is at most R times the
 * control's exactly when at most 1 % of its scorings lie above that cut, so its share above the cut
 * is tested against 1 % (plus the threshold): the mixture on the share with its variance over units
 * ({@link DeltaMethodSprt#share}) and, beside it, the binomial quantile e-process exact for
 * independent scorings ({@link ExceedanceTest}); a decision needs both. Harm counts scorings above
 * R times the upper 99 % bound of the control's p99, a pass those above R times its lower bound.
 */
final class TailShareTest extends GuardrailTest {
    private static final long serialVersionUID = 1L;

    /** Named by a latency guardrail's result. */
    static final String NAME =
            "quantile test of the candidate's share above ratio x the control's p99 (upper 99 % bound for harm, lower for a pass) against 1 %: mSPRT on the share, its variance over units (design effect of the slow share; at least the binomial at the boundary), with the binomial e-process for independent scorings: a decision needs both; one-sided always-valid p, Holm";

    private final ExceedanceTest exact;

    TailShareTest(Guardrail guardrail) {
        super(guardrail);
        this.exact = new ExceedanceTest(0.01 + guardrail.threshold(), 0.01 + guardrail.margin());
    }

    @Override
    void observe(Evidence e) {
        // a window whose control scored nothing has no cut: its candidate's scorings are neither
        // slow nor fast, and count for neither test
        if (e.control().scored() > 0) {
            exact.add(e.candidate().slow(), e.candidate().slowLow(), e.candidate().cutScored(), 1);
        }
    }

    @Override
    MixtureTest exact() {
        return exact;
    }

    @Override
    Assessment assess(Look look) {
        ArmCounts k = look.candidate();
        double harm = 0.01 + guardrail.threshold();
        DeltaMethodSprt.Look l =
                DeltaMethodSprt.share(
                        k.slow(),
                        k.slowLow(),
                        k.cutScored(),
                        designEffect(k),
                        harm,
                        0.01 + guardrail.margin(),
                        harm,
                        look.sequentialAlpha());
        return bothTests(
                l,
                exact,
                look,
                share(look.control()),
                share(k),
                l.estimate(),
                Double.NaN,
                Double.NaN);
    }

    /** An arm's share of scorings above its windows' cuts. */
    private static double share(ArmCounts arm) {
        return arm.cutScored() == 0 ? Double.NaN : (double) arm.slow() / arm.cutScored();
    }

    /**
     * The design effect over units of the arm's share of slow scorings, from the rollout's slow
     * scorings per unit ({@link ArmCounts#slowUnits}); 1 without them.
     */
    static double designEffect(ArmCounts arm) {
        return arm.slowUnits() == null ? 1 : arm.slowUnits().designEffect();
    }

    @Override
    String reason(Assessment a, Verdict.Result result, double tested) {
        double bound = 0.01 + guardrail.threshold();
        return switch (result) {
            case FAIL ->
                    String.format(
                            "%s: %.2f %% of the candidate's scorings are slower than %.2f x the control's p99, more than %.2f %% (its p99 beyond the ratio; p %.2g)",
                            metricName(), 100 * a.delta(), guardrail.ratio(), 100 * bound, tested);
            case PASS ->
                    String.format(
                            "%s: %.2f %% of the candidate's scorings are slower than %.2f x the control's p99, fewer than %.2f %% (its p99 within the ratio; p %.2g)",
                            metricName(),
                            100 * a.delta(),
                            guardrail.ratio(),
                            100 * (0.01 + guardrail.margin()),
                            a.passP());
            case INCONCLUSIVE ->
                    String.format(
                            "%s: %.2f %% of the candidate's scorings slower than %.2f x the control's p99, not yet shown above or below %.2f %% (p %.2g and %.2g)",
                            metricName(),
                            100 * a.delta(),
                            guardrail.ratio(),
                            100 * bound,
                            tested,
                            a.passP());
        };
    }

    @Override
    String name(Look look) {
        return NAME
                + (look.candidate().slowUnits() != null
                        ? String.format(
                                "; the share's design effect over units %.2f, the control's p99 bounds widened by its own where it has latencies per unit",
                                designEffect(look.candidate()))
                        : "; over scorings (no latencies per unit)");
    }
}
