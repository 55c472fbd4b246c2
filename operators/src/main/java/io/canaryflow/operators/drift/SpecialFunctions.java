package io.canaryflow.operators.drift;

/**
 * The special functions the tests of this package need, in plain Java: log-gamma (Lanczos, g = 7, n
 * = 9; relative error below 1e-15 for positive arguments) and the regularized upper incomplete
 * gamma function Q(a, x) (series for x < a + 1, Lentz's continued fraction otherwise; Numerical
 * Recipes 3rd ed., §6.2), accurate to about 1e-14.
 */
public final class SpecialFunctions {
    private static final double[] LANCZOS = {
        0.99999999999980993,
        676.5203681218851,
        -1259.1392167224028,
        771.32342877765313,
        -176.61502916214059,
        12.507343278686905,
        -0.13857109526572012,
        9.9843695780195716e-6,
        1.5056327351493116e-7
    };
    private static final double EPSILON = 1e-15;
    private static final int MAX_ITERATIONS = 10_000;

    private SpecialFunctions() {}

    /** ln Γ(x) for x > 0. */
    public static double logGamma(double x) {
        if (!(x > 0)) {
            throw new IllegalArgumentException("logGamma needs x > 0, got " + x);
        }
        if (x < 0.5) {
            // Reflection: Γ(x) Γ(1 - x) = π / sin(πx).
            return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
        }
        double z = x - 1;
        double sum = LANCZOS[0];
        double t = z + 7.5;
        for (int i = 1; i < LANCZOS.length; i++) {
            sum += LANCZOS[i] / (z + i);
        }
        return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
    }

    /**
     * Q(a, x) = Γ(a, x) / Γ(a), the upper tail: the χ² survival function with k degrees of freedom
     * is {@code Q(k / 2, x / 2)}. Q(a, 0) = 1.
     */
    public static double regularizedGammaQ(double a, double x) {
        if (!(a > 0) || x < 0 || Double.isNaN(x)) {
            throw new IllegalArgumentException("regularizedGammaQ needs a > 0 and x >= 0");
        }
        if (x == 0) {
            return 1;
        }
        if (Double.isInfinite(x)) {
            return 0;
        }
        if (x < a + 1) {
            return 1 - lowerSeries(a, x);
        }
        return upperContinuedFraction(a, x);
    }

    /** P(a, x) by its series. */
    private static double lowerSeries(double a, double x) {
        double ap = a;
        double sum = 1 / a;
        double term = sum;
        for (int n = 0; n < MAX_ITERATIONS; n++) {
            ap += 1;
            term *= x / ap;
            sum += term;
            if (Math.abs(term) < Math.abs(sum) * EPSILON) {
                break;
            }
        }
        return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
    }

    /** Q(a, x) by its continued fraction (modified Lentz). */
    private static double upperContinuedFraction(double a, double x) {
        double tiny = 1e-300;
        double b = x + 1 - a;
        double c = 1 / tiny;
        double d = 1 / b;
        double h = d;
        for (int i = 1; i < MAX_ITERATIONS; i++) {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.abs(d) < tiny) {
                d = tiny;
            }
            c = b + an / c;
            if (Math.abs(c) < tiny) {
                c = tiny;
            }
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.abs(delta - 1) < EPSILON) {
                break;
            }
        }
        return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
    }

    /** The standard normal distribution function Φ(s), from erfc(|s|/√2) = Q(½, s²/2). */
    public static double normalCdf(double s) {
        double half = 0.5 * regularizedGammaQ(0.5, 0.5 * s * s); // erfc(|s|/√2)/2
        return s < 0 ? half : 1 - half;
    }

    /** Survival function of the χ² distribution with {@code degreesOfFreedom} at {@code x}. */
    public static double chiSquareSurvival(double x, double degreesOfFreedom) {
        return regularizedGammaQ(degreesOfFreedom / 2, x / 2);
    }

    /**
     * Survival function of the Kolmogorov distribution, {@code P(K > t) = 2 Σ_{k≥1} (-1)^(k-1)
     * exp(-2 k² t²)}; 1 for t ≤ 0. For t < 1 the alternating series converges slowly and the
     * equivalent theta-function form {@code 1 - (√(2π)/t) Σ_{k≥1} exp(-(2k-1)² π² / (8t²))} is
     * used.
     */
    public static double kolmogorovSurvival(double t) {
        if (t <= 0) {
            return 1;
        }
        if (t < 1) {
            double sum = 0;
            for (int k = 1; k < 100; k++) {
                double term =
                        Math.exp(-(2 * k - 1) * (2 * k - 1) * Math.PI * Math.PI / (8 * t * t));
                sum += term;
                if (term < 1e-17) {
                    break;
                }
            }
            return Math.max(0, Math.min(1, 1 - Math.sqrt(2 * Math.PI) / t * sum));
        }
        double sum = 0;
        for (int k = 1; k < 100; k++) {
            double term = Math.exp(-2.0 * k * k * t * t);
            sum += (k % 2 == 1 ? term : -term);
            if (term < 1e-17) {
                break;
            }
        }
        return Math.max(0, Math.min(1, 2 * sum));
    }
}
