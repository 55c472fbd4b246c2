package io.canaryflow.operators.drift;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Benjamini-Hochberg control of the false discovery rate across many tests (features × segments):
 * with m p-values sorted ascending, the adjusted value of the i-th is {@code min_{j≥i} p_(j) · m /
 * j}, capped at 1; a test is a discovery at level q when its adjusted value is at most q. NaN
 * p-values (tests that could not be run) are left out of m and stay NaN.
 */
public final class BenjaminiHochberg {
    private BenjaminiHochberg() {}

    /** Adjusted p-values (q-values), in the input order. */
    public static double[] adjust(double[] pValues) {
        Integer[] order =
                java.util.stream.IntStream.range(0, pValues.length)
                        .filter(i -> !Double.isNaN(pValues[i]))
                        .boxed()
                        .toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> pValues[i]));
        double[] adjusted = new double[pValues.length];
        Arrays.fill(adjusted, Double.NaN);
        int m = order.length;
        double running = 1;
        for (int rank = m; rank >= 1; rank--) {
            int i = order[rank - 1];
            running = Math.min(running, pValues[i] * m / rank);
            adjusted[i] = Math.min(1, running);
        }
        return adjusted;
    }

    /** Which tests are discoveries at false discovery rate {@code q}. */
    public static boolean[] discoveries(double[] pValues, double q) {
        double[] adjusted = adjust(pValues);
        boolean[] out = new boolean[pValues.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = adjusted[i] <= q;
        }
        return out;
    }
}
