package io.canaryflow.operators.judge;

/**
 * The mixture sequential probability ratio test (mSPRT) for a difference of means with a normal
 * mixing distribution, as in Johari, Koomen, Pekelis and Walsh, "Peeking at A/B Tests: Why it
 * matters, and what to do about it" (KDD 2017), and Johari, Pekelis and Walsh, "Always Valid
 * Inference: Continuous Monitoring of A/B Tests" (Operations Research 70(3), 2022).
 *
 * <p>For an estimate {@code d} of the difference θ with variance {@code V} (approximately normal)
 * and the mixing distribution θ - θ₀ ~ N(0, τ²), the mixture likelihood ratio against θ = θ₀ is
 *
 * <pre>Λ(θ₀) = sqrt(V / (V + τ²)) · exp(τ² (d - θ₀)² / (2 V (V + τ²)))</pre>
 *
 * <p>Under θ = θ₀, Λ is a nonnegative martingale with mean 1, so by Ville's inequality P(Λ ever
 * reaches 1/α) ≤ α: the test may be looked at after every window, and stopped at any of them,
 * without inflating its error. Inverting it gives an always-valid confidence sequence, {@code d ±
 * r} with
 *
 * <pre>r = sqrt(V (V + τ²) / τ² · (2 ln(1/α) + ln((V + τ²) / V)))</pre>
 *
 * which covers θ at every look simultaneously with probability at least 1 - α. The always-valid
 * p-value is the running minimum of min(1, 1/Λ).
 */
public final class MixtureSprt {
    private MixtureSprt() {}

    /** The mixture likelihood ratio Λ(θ₀) of an estimate {@code d} with variance {@code v}. */
    public static double likelihoodRatio(double d, double theta0, double v, double tau2) {
        check(v, tau2);
        double x = d - theta0;
        return Math.sqrt(v / (v + tau2)) * Math.exp(tau2 * x * x / (2 * v * (v + tau2)));
    }

    /** The half-width of the always-valid (1 - α) confidence sequence at variance {@code v}. */
    public static double radius(double v, double tau2, double alpha) {
        check(v, tau2);
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
        }
        return Math.sqrt(
                v * (v + tau2) / tau2 * (2 * Math.log(1 / alpha) + Math.log((v + tau2) / v)));
    }

    /** min(1, 1/Λ): this look's p-value; the always-valid one is its running minimum. */
    public static double pValue(double d, double theta0, double v, double tau2) {
        return Math.min(1, 1 / likelihoodRatio(d, theta0, v, tau2));
    }

    /**
     * The one-sided mixture likelihood ratio against θ ≤ θ₀: the normal likelihood ratios of
     * alternatives θ₀ + δ mixed over a half-normal δ ~ |N(0, τ²)|,
     *
     * <pre>Λ₊ = 2 Φ(x τ / sqrt(V (V + τ²))) · Λ(θ₀),  x = d − θ₀</pre>
     *
     * <p>Every alternative lies above θ₀, so for every θ ≤ θ₀ each likelihood ratio has mean at
     * most 1 and Λ₊ is a nonnegative supermartingale: valid for the whole one-sided null, not only
     * at its edge, and, when the evidence points above θ₀, twice the two-sided mixture (the same
     * boundary as testing the two-sided one at 2α).
     */
    public static double oneSidedLikelihoodRatio(double d, double theta0, double v, double tau2) {
        check(v, tau2);
        double x = d - theta0;
        double s = x * Math.sqrt(tau2 / (v * (v + tau2)));
        // log Λ₊ = ln 2 + ln Φ(s) + log Λ, kept finite for large |x|
        double log =
                Math.log(2)
                        + logPhi(s)
                        + 0.5 * Math.log(v / (v + tau2))
                        + tau2 * x * x / (2 * v * (v + tau2));
        return Math.exp(log);
    }

    /**
     * min(1, 1/Λ₊): this look's p-value of "θ ≤ θ₀"; the always-valid one is its running minimum.
     */
    public static double oneSidedPValue(double d, double theta0, double v, double tau2) {
        return Math.min(1, 1 / oneSidedLikelihoodRatio(d, theta0, v, tau2));
    }

    /**
     * The distance x by which an estimate must exceed θ₀ for Λ₊ to reach 1/α: the one-sided
     * always-valid bound, {@code d − x} a lower confidence bound of θ at every look (and {@code d +
     * x} an upper one, mirrored).
     */
    public static double oneSidedRadius(double v, double tau2, double alpha) {
        check(v, tau2);
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
        }
        double target = Math.log(1 / alpha);
        double lo = 0;
        double hi = radius(v, tau2, alpha); // the two-sided radius at α always suffices
        for (int i = 0; i < 60; i++) {
            double mid = 0.5 * (lo + hi);
            if (Math.log(oneSidedLikelihoodRatio(mid, 0, v, tau2)) >= target) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return hi;
    }

    /** ln Φ(s), accurate far into the lower tail. */
    static double logPhi(double s) {
        if (s > -35) { // Φ(−35) ≈ 1e-268: still a normal double
            return Math.log(io.canaryflow.operators.drift.SpecialFunctions.normalCdf(s));
        }
        // Mills' ratio: Φ(s) ≈ φ(s)/|s| (1 − 1/s² + 3/s⁴), relative error below 1e-8 here
        double s2 = s * s;
        return -0.5 * s2
                - 0.5 * Math.log(2 * Math.PI)
                - Math.log(-s)
                + Math.log1p(-1 / s2 + 3 / (s2 * s2));
    }

    private static void check(double v, double tau2) {
        if (!(v > 0) || !(tau2 > 0)) {
            throw new IllegalArgumentException(
                    "variance and mixing variance must be positive, got " + v + " and " + tau2);
        }
    }
}
