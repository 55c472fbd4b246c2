package io.canaryflow.operators.judge;

import io.canaryflow.operators.drift.SpecialFunctions;

/**
 * An exact anytime-valid test of an absolute difference of two rates, for rare events where a
 * normal approximation cannot be trusted: universal inference (Wasserman, Ramdas and Balakrishnan,
 * PNAS 2020) with a Beta-binomial mixture. For the control's x_c errors of n_c and the candidate's
 * x_k of n_k, and a null set H of rate pairs (p_c, p_k),
 *
 * <pre>
 *   E = ∫∫ L(p_c, p_k) Beta(½, ½)(dp_c) Beta(½, ½)(dp_k) / sup_{(p_c, p_k) ∈ H} L(p_c, p_k)
 * </pre>
 *
 * <p>is an e-process for H: for every (p_c, p_k) in H the numerator over L(p_c, p_k) is a test
 * martingale in the scorings (a mixture of likelihood ratios), and E is never larger. So by Ville's
 * inequality the chance that E ever reaches 1/α is at most α, however often it is looked at, with
 * no variance estimated: exact for independent scorings at any rate and any arm size. Both the
 * numerator (Beta functions) and the denominator (the null-constrained maximum likelihood) depend
 * on the cumulative counts alone, so it keeps no state of its own.
 *
 * <p>The price of exactness is power: the mixture pays about ½·log n per rate in evidence, so it
 * needs more scorings than the normal mixture the judge uses for harm. The judge therefore asks it
 * only for a PASS of an absolute rate guardrail, where a rare-event approximation errs towards a
 * false promotion (see {@link Judge}).
 */
final class RateDifferenceTest {
    private RateDifferenceTest() {}

    /**
     * The p-value min(1, 1/E) of "p_k − p_c ≥ boundary" (the candidate is not within it): small
     * when the candidate's rate is shown to be below the control's plus {@code boundary}.
     *
     * @param designEffect the log e-value is divided by it (at least 1): counts over units
     */
    static double passP(long xc, long nc, long xk, long nk, double boundary, double designEffect) {
        if (nc <= 0 || nk <= 0) {
            return 1;
        }
        double pc = (double) xc / nc;
        double pk = (double) xk / nk;
        double logNull =
                pk - pc >= boundary
                        ? logLikelihood(xc, nc, pc) + logLikelihood(xk, nk, pk)
                        : onBoundary(xc, nc, xk, nk, boundary);
        return fromLog(logMixture(xc, nc) + logMixture(xk, nk) - logNull, designEffect);
    }

    /**
     * As {@link #passP} for a rate tested alone (a shadow's flip rate: the control's is 0 by
     * definition): the p-value of "p ≥ boundary".
     */
    static double passPAlone(long x, long n, double boundary, double designEffect) {
        if (n <= 0) {
            return 1;
        }
        double p = (double) x / n;
        double logNull = logLikelihood(x, n, Math.max(p, Math.min(1, boundary)));
        return fromLog(logMixture(x, n) - logNull, designEffect);
    }

    /** min(1, 1/E) for log E divided by the design effect (at least 1). */
    private static double fromLog(double logE, double designEffect) {
        double l = logE / (designEffect >= 1 ? designEffect : 1);
        return l <= 0 ? 1 : Math.exp(-l);
    }

    /** log ∫ p^x (1 − p)^(n − x) Beta(½, ½)(dp) = ln B(x + ½, n − x + ½) − ln B(½, ½). */
    static double logMixture(long x, long n) {
        return logBeta(x + 0.5, n - x + 0.5) - Math.log(Math.PI);
    }

    /** x ln p + (n − x) ln(1 − p), with 0 · ln 0 = 0. */
    static double logLikelihood(long x, long n, double p) {
        double l = 0;
        if (x > 0) {
            l += x * Math.log(p);
        }
        if (n - x > 0) {
            l += (n - x) * Math.log1p(-p);
        }
        return l;
    }

    /**
     * max over p in [0, 1 − d] (or [−d, 1] for d < 0) of ℓ_c(p) + ℓ_k(p + d): the null's maximum
     * likelihood on its boundary p_k = p_c + d. The sum is concave in p, so its derivative has one
     * zero, found by bisection (or the maximum sits at an end).
     */
    static double onBoundary(long xc, long nc, long xk, long nk, double d) {
        double lo = Math.max(0, -d);
        double hi = Math.min(1, 1 - d);
        if (!(hi > lo)) {
            return Double.NEGATIVE_INFINITY;
        }
        double a = lo;
        double b = hi;
        for (int i = 0; i < 200 && b - a > 1e-15; i++) {
            double m = 0.5 * (a + b);
            if (slope(xc, nc, xk, nk, d, m) > 0) {
                a = m;
            } else {
                b = m;
            }
        }
        double p = 0.5 * (a + b);
        return logLikelihood(xc, nc, p) + logLikelihood(xk, nk, Math.min(1, Math.max(0, p + d)));
    }

    private static double slope(long xc, long nc, long xk, long nk, double d, double p) {
        double q = p + d;
        double s = 0;
        s += xc > 0 ? xc / p : 0;
        s -= nc - xc > 0 ? (nc - xc) / (1 - p) : 0;
        s += xk > 0 ? xk / q : 0;
        s -= nk - xk > 0 ? (nk - xk) / (1 - q) : 0;
        return s;
    }

    /** ln B(a, b). */
    static double logBeta(double a, double b) {
        return SpecialFunctions.logGamma(a)
                + SpecialFunctions.logGamma(b)
                - SpecialFunctions.logGamma(a + b);
    }
}
