package io.canaryflow.operators.judge;

/**
 * Anytime-valid tests of the ratio r = λ_candidate / λ_control of two arms' event rates (errors per
 * scoring), exact however rare the events: for relative thresholds such as {@code
 * inference_error_rate:+50%}.
 *
 * <p>Given how many events a window holds in both arms together, N, each of them is the candidate's
 * with probability π(r) = r·n_k / (n_c + r·n_k), n_k and n_c the arms' scorings in the window
 * (Poisson events, or rare Bernoulli ones; the classical conditional test of two rates). For an
 * alternative r₁ against a boundary r₀, the window's likelihood ratio is
 *
 * <pre>(π(r₁) / π(r₀))^x_k · ((1 − π(r₁)) / (1 − π(r₀)))^x_c</pre>
 *
 * and its product over windows is a nonnegative supermartingale whenever the true ratio is on the
 * other side of r₀ than r₁ (each event's factor has expectation at most 1 there). The average of
 * such products over a grid of alternatives — r₀·1.25^j, j = 1..24, beyond the boundary — is
 * therefore an e-process, and by Ville's inequality the probability that it ever reaches 1/α is at
 * most α however often it is looked at. This is the conditional-binomial form of the Poisson
 * rate-ratio test (Lindon and Malek, "Anytime-Valid Inference for Multinomial Count Data", NeurIPS
 * 2022, treat the general multinomial case); no variance is estimated, so a candidate whose few
 * errors are low by chance gets no narrower a test.
 *
 * <p>Two tests run side by side: <b>harm</b> rejects r ≤ 1 + threshold (a FAIL), <b>pass</b>
 * rejects r ≥ 1 + margin (non-inferiority: a PASS). Units, not scorings, are randomized, so events
 * are not independent: at each look the accumulated log likelihood ratios are divided by the design
 * effect of the rollout so far (the larger arm's unit-level variance of its rate over the binomial
 * one, at least 1) — Rao and Scott's correction for clustered counts, applied to all the data at
 * once. With clustering the test is therefore approximate, not exact; with independent events
 * (design effect 1) it is exact.
 */
public final class RateRatioTest extends MixtureTest {
    private static final long serialVersionUID = 1L;

    private final double harmBoundary;
    private final double passBoundary;

    /**
     * @param threshold the tolerated relative increase (0.5: at most 1.5 × the control's rate)
     * @param margin the non-inferiority margin, at least the threshold
     */
    public RateRatioTest(double threshold, double margin) {
        if (!(threshold >= 0) || !(margin >= threshold)) {
            throw new IllegalArgumentException(
                    "need 0 <= threshold <= margin, got " + threshold + " and " + margin);
        }
        this.harmBoundary = 1 + threshold;
        this.passBoundary = 1 + margin;
    }

    /**
     * Adds one window's counts (effective counts: they need not be whole).
     *
     * @param xControl the control's events
     * @param nControl its scorings
     * @param xCandidate the candidate's events
     * @param nCandidate its scorings
     * @param designEffect the rollout's design effect so far (at least 1)
     */
    public void add(
            double xControl,
            double nControl,
            double xCandidate,
            double nCandidate,
            double designEffect) {
        double d = Math.max(1, designEffect);
        if (!(nControl > 0 && nCandidate > 0) || !(xControl + xCandidate > 0)) {
            // no event: the window says nothing about the ratio, but the design effect may have
            // grown
            look(d);
            return;
        }
        double harm0 = logLikelihood(harmBoundary, xControl, nControl, xCandidate, nCandidate);
        double pass0 = logLikelihood(passBoundary, xControl, nControl, xCandidate, nCandidate);
        for (int j = 0; j < GRID; j++) {
            double up = harmBoundary * Math.exp((j + 1) * STEP);
            double down = passBoundary * Math.exp(-(j + 1) * STEP);
            harmLog[j] += logLikelihood(up, xControl, nControl, xCandidate, nCandidate) - harm0;
            passLog[j] += logLikelihood(down, xControl, nControl, xCandidate, nCandidate) - pass0;
        }
        look(d);
    }

    private static double logLikelihood(
            double r, double xControl, double nControl, double xCandidate, double nCandidate) {
        double pi = r * nCandidate / (nControl + r * nCandidate);
        return xCandidate * Math.log(pi) + xControl * Math.log1p(-pi);
    }
}
