package io.canaryflow.operators.drift;

/**
 * Jensen-Shannon divergence in bits, {@code JSD(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M)} with {@code M =
 * (P + Q) / 2}: symmetric, always finite (empty bins need no ε, since {@code 0 · log 0 = 0}), 0 for
 * identical and 1 for disjoint distributions.
 */
public final class JensenShannon {
    private JensenShannon() {}

    /**
     * JSD of two count or weight vectors over the same bins, each normalized to sum 1. NaN if
     * either sums to 0.
     */
    public static double divergence(double[] p, double[] q) {
        if (p.length != q.length) {
            throw new IllegalArgumentException(p.length + " bins against " + q.length);
        }
        double sp = 0;
        double sq = 0;
        for (int i = 0; i < p.length; i++) {
            if (p[i] < 0 || q[i] < 0) {
                throw new IllegalArgumentException("negative weight in bin " + i);
            }
            sp += p[i];
            sq += q[i];
        }
        if (sp == 0 || sq == 0) {
            return Double.NaN;
        }
        double js = 0;
        for (int i = 0; i < p.length; i++) {
            double a = p[i] / sp;
            double b = q[i] / sq;
            double m = (a + b) / 2;
            if (a > 0) {
                js += 0.5 * a * Math.log(a / m);
            }
            if (b > 0) {
                js += 0.5 * b * Math.log(b / m);
            }
        }
        return Math.max(0, js / Math.log(2));
    }

    /** Convenience for counts. */
    public static double divergence(long[] p, long[] q) {
        double[] a = new double[p.length];
        double[] b = new double[q.length];
        for (int i = 0; i < p.length; i++) {
            a[i] = p[i];
        }
        for (int i = 0; i < q.length; i++) {
            b[i] = q[i];
        }
        return divergence(a, b);
    }
}
