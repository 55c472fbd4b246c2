package io.canaryflow.operators.judge;

/**
 * The {@code score_psi} guardrail: the candidate's scores against the control's over the
 * experiment's shared score bins. PSI is a size, not a test, so a FAIL needs both the rollout's PSI
 * at or above the threshold and the anytime-valid test that the arms' scores fall into bins alike
 * ({@link BinnedMixture}) to reject; a PASS, the PSI below the threshold.
 */
final class ScoreBinsTest extends GuardrailTest {
    private static final long serialVersionUID = 1L;

    static final String NAME =
            "PSI at or above the threshold and an anytime-valid test of the arms' bins alike (Beta(1, 1) mixture over each bin's candidate share); Holm";

    ScoreBinsTest(Guardrail guardrail) {
        super(guardrail);
    }

    @Override
    Assessment assess(Look look) {
        long[] kb = look.control().scoreBins();
        long[] cb = look.candidate().scoreBins();
        if (kb.length == 0 || kb.length != cb.length) {
            return new Assessment(
                    Double.NaN, Double.NaN, 0, Double.NaN, Double.NaN, 1, 1, false, 0, false);
        }
        double psi = psiBetween(cb, kb);
        double p = psi >= guardrail.threshold() ? BinnedMixture.pValue(cb, kb, look.share()) : 1;
        return new Assessment(
                Double.NaN,
                Double.NaN,
                psi,
                Double.NaN,
                Double.NaN,
                p,
                1,
                psi < guardrail.threshold(),
                0,
                true);
    }

    /** PSI of the candidate's bin counts against the control's fractions (ε = 1e-4). */
    static double psiBetween(long[] candidate, long[] control) {
        return io.canaryflow.operators.drift.Psi.of(
                        candidate,
                        io.canaryflow.operators.drift.DriftMeasures.fractions(control),
                        io.canaryflow.operators.drift.Psi.DEFAULT_EPSILON)
                .value();
    }

    @Override
    String reason(Assessment a, Verdict.Result result, double tested) {
        return switch (result) {
            case FAIL ->
                    String.format(
                            "%s: the candidate's scores fall into bins unlike the control's: PSI %.4f >= %.4f (anytime-valid p %.2g)",
                            metricName(), a.delta(), guardrail.threshold(), tested);
            case PASS ->
                    String.format(
                            "%s: PSI %.4f below %.4f",
                            metricName(), a.delta(), guardrail.threshold());
            case INCONCLUSIVE ->
                    String.format(
                            "%s: PSI %.4f at or above %.4f, not yet significant (p %.2g)",
                            metricName(), a.delta(), guardrail.threshold(), tested);
        };
    }

    @Override
    String name(Look look) {
        return NAME;
    }
}
