package io.canaryflow.operators.judge;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Holm's step-down procedure (Holm, "A Simple Sequentially Rejective Multiple Test Procedure",
 * Scandinavian Journal of Statistics 6(2), 1979): with the m p-values sorted ascending, reject
 * hypotheses 1..k while {@code p_(i) ≤ α / (m - i + 1)}; the family-wise error stays at most α
 * under any dependence between the tests.
 */
public final class Holm {
    private Holm() {}

    /** Which hypotheses are rejected at family-wise level {@code alpha}, in input order. */
    public static boolean[] rejected(double[] pValues, double alpha) {
        Integer[] order = new Integer[pValues.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> pValues[i]));
        boolean[] out = new boolean[pValues.length];
        int m = pValues.length;
        for (int rank = 0; rank < m; rank++) {
            int i = order[rank];
            if (pValues[i] <= alpha / (m - rank)) {
                out[i] = true;
            } else {
                break;
            }
        }
        return out;
    }
}
