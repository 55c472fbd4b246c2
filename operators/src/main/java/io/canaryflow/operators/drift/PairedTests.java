package io.canaryflow.operators.drift;

import java.util.Arrays;

/**
 * Tests on paired observations of the same events (a shadow candidate against the served baseline):
 * McNemar's test of thresholded decisions and the Wilcoxon signed-rank test of score differences.
 */
public final class PairedTests {
    private PairedTests() {}

    /** A test statistic and its two-sided p-value; NaN when there is nothing to test. */
    public record Result(double statistic, double pValue, long n) {}

    /**
     * McNemar's test with continuity correction: of the pairs whose decisions differ, {@code up}
     * flipped one way and {@code down} the other; χ² = (|up - down| - 1)² / (up + down), one degree
     * of freedom.
     */
    public static Result mcNemar(long up, long down) {
        long discordant = up + down;
        if (discordant == 0) {
            return new Result(Double.NaN, Double.NaN, 0);
        }
        double d = Math.max(0, Math.abs(up - down) - 1.0);
        double chi2 = d * d / discordant;
        return new Result(chi2, SpecialFunctions.chiSquareSurvival(chi2, 1), discordant);
    }

    /**
     * The Wilcoxon signed-rank test of {@code differences} against a zero median, by the normal
     * approximation with the variance corrected for ties; zero differences are dropped. The
     * statistic is W+, the rank sum of the positive differences.
     */
    public static Result wilcoxon(double[] differences) {
        double[] d = Arrays.stream(differences).filter(x -> x != 0 && !Double.isNaN(x)).toArray();
        int n = d.length;
        if (n == 0) {
            return new Result(Double.NaN, Double.NaN, 0);
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(Math.abs(d[a]), Math.abs(d[b])));
        double wPlus = 0;
        double tieCorrection = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && Math.abs(d[order[j + 1]]) == Math.abs(d[order[i]])) {
                j++;
            }
            double rank = (i + j + 2) / 2.0; // ranks i+1 .. j+1, averaged
            int t = j - i + 1;
            tieCorrection += (double) t * t * t - t;
            for (int k = i; k <= j; k++) {
                if (d[order[k]] > 0) {
                    wPlus += rank;
                }
            }
            i = j + 1;
        }
        double mean = n * (n + 1) / 4.0;
        double variance = n * (n + 1) * (2.0 * n + 1) / 24.0 - tieCorrection / 48.0;
        double z = variance > 0 ? (wPlus - mean) / Math.sqrt(variance) : 0;
        double p = Math.min(1, 2 * normalUpperTail(Math.abs(z)));
        return new Result(wPlus, p, n);
    }

    /** P(Z > z) for a standard normal Z, from the regularized gamma function: Q(1/2, z²/2) / 2. */
    static double normalUpperTail(double z) {
        if (z < 0) {
            return 1 - normalUpperTail(-z);
        }
        return SpecialFunctions.regularizedGammaQ(0.5, z * z / 2) / 2;
    }
}
