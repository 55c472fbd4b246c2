package io.canaryflow.operators.units;

import java.io.Serializable;

/**
 * One arm's slow scorings per unit, summed over windows each cut at its own latency (a {@link
 * LatencySketch} read at each window's cut): per bucket, the signed count of slow scorings, of
 * scorings in the arm's own 1 % tail, and of all scorings, with the exact totals they sketch. A
 * unit keeps its bucket and sign in every window, so the sum carries each unit's total over the
 * rollout.
 *
 * <p>For T_u a unit's slow scorings, n_u all of them and p = ΣT/Σn, Σ_b (t_b − p·a_b)² estimates
 * Σ_u (T_u − p·n_u)² without bias, the numerator of the share's cluster-robust variance; over the
 * binomial variance it is the share's <b>design effect</b> over units (Kish): about 1 when units do
 * not differ in speed, large when a few heavy units are all slow or all fast. The slow share at a
 * cut far out may hold few scorings, or none, when the slow units have not reached the arm yet; the
 * arm's own 1 % tail always holds about 1 % of its scorings, and stands in for it then.
 *
 * @param slow per bucket, the signed count of slow scorings (at or above each window's cut bound)
 * @param tail per bucket, the signed count of scorings in the arm's own 1 % tail (at or above the
 *     bound at or below each window's p99)
 * @param all per bucket, the signed count of all scorings
 * @param slowCount the slow scorings (exact)
 * @param tailCount the scorings in the 1 % tails (exact)
 * @param count all scorings (exact)
 */
public record UnitTail(
        double[] slow, double[] tail, double[] all, long slowCount, long tailCount, long count)
        implements Serializable {

    public UnitTail {
        int b = LatencySketch.BUCKETS;
        if (tail == null) {
            tail = new double[b]; // restored from a state before the 1 % tail: none counted
        }
        if (slow == null
                || tail == null
                || all == null
                || slow.length != b
                || tail.length != b
                || all.length != b) {
            throw new IllegalArgumentException("a unit tail has " + b + " buckets of each count");
        }
    }

    /**
     * A window's tail: its sketch read at the bins {@code slowBin} and {@code tailBin}, with the
     * exact counts of the window's scorings at or above those bins' lower bounds and of all of
     * them.
     */
    public static UnitTail of(
            LatencySketch sketch,
            int slowBin,
            long slowCount,
            int tailBin,
            long tailCount,
            long count) {
        int b = LatencySketch.BUCKETS;
        double[] s = sketch.tail(slowBin);
        double[] t = sketch.tail(tailBin);
        double[] slow = new double[b];
        double[] tail = new double[b];
        double[] all = new double[b];
        System.arraycopy(s, 0, slow, 0, b);
        System.arraycopy(t, 0, tail, 0, b);
        System.arraycopy(s, b, all, 0, b);
        return new UnitTail(slow, tail, all, slowCount, tailCount, count);
    }

    public UnitTail plus(UnitTail o) {
        double[] s = slow.clone();
        double[] t = tail.clone();
        double[] a = all.clone();
        for (int b = 0; b < s.length; b++) {
            s[b] += o.slow[b];
            t[b] += o.tail[b];
            a[b] += o.all[b];
        }
        return new UnitTail(
                s, t, a, slowCount + o.slowCount, tailCount + o.tailCount, count + o.count);
    }

    /** {@code a + b} where either may be null (none counted). */
    public static UnitTail sum(UnitTail a, UnitTail b) {
        return a == null ? b : b == null ? a : a.plus(b);
    }

    /** Slow scorings below this: their own design effect is too thin to trust alone. */
    static final long MIN_SLOW = 20;

    /**
     * The slow share's design effect, at least 1: Σ_b (t_b − p·a_b)² / (p(1 − p)·n), times n'/(n' −
     * 1) for n' = n² / Σ_b a_b² the effective number of units (the residuals of a dominant unit
     * shrink towards 0); infinite below two effective units. With fewer than {@link #MIN_SLOW} slow
     * scorings (none, when the slow units have not reached the arm yet) it is at least the 1 %
     * tail's, which always has scorings to vary.
     */
    public double designEffect() {
        double atCut = effect(slow, slowCount);
        return slowCount >= MIN_SLOW ? atCut : Math.max(atCut, effect(tail, tailCount));
    }

    private double effect(double[] counted, long total) {
        if (count == 0 || total == 0 || total == count) {
            return 1;
        }
        double p = (double) total / count;
        double squares = 0;
        double f2 = 0;
        for (int b = 0; b < counted.length; b++) {
            double r = counted[b] - p * all[b];
            squares += r * r;
            f2 += all[b] * all[b];
        }
        double n = (double) count * count / Math.max(count, f2);
        if (!(n > 1)) {
            return Double.POSITIVE_INFINITY;
        }
        return Math.max(1, squares / (p * (1 - p) * count) * n / (n - 1));
    }
}
