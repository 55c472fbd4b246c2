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

    private static void check(double v, double tau2) {
        if (!(v > 0) || !(tau2 > 0)) {
            throw new IllegalArgumentException(
                    "variance and mixing variance must be positive, got " + v + " and " + tau2);
        }
    }
}
