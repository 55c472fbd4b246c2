package io.canaryflow.operators.units;

import java.io.Serializable;

/**
 * One arm's slow scorings per unit, summed over windows each cut at its own latency (a {@link
 * LatencySketch} read at each window's cut): per bucket, the signed count of slow scorings and of
 * all scorings, with the exact totals they sketch. A unit keeps its bucket and sign in every
 * window, so the sum carries each unit's total over the rollout.
 *
 * <p>For T_u a unit's slow scorings, n_u all of them and p = ΣT/Σn, Σ_b (t_b − p·a_b)² estimates
 * Σ_u (T_u − p·n_u)² without bias, the numerator of the share's cluster-robust variance; over the
 * binomial variance it is the share's <b>design effect</b> over units (Kish): about 1 when units do
 * not differ in speed, large when a few heavy units are all slow or all fast.
 *
 * @param slow per bucket, the signed count of slow scorings
 * @param all per bucket, the signed count of all scorings
 * @param slowCount the slow scorings (exact)
 * @param count all scorings (exact)
 */
public record UnitTail(double[] slow, double[] all, long slowCount, long count)
        implements Serializable {

    public UnitTail {
        if (slow == null
                || all == null
                || slow.length != LatencySketch.BUCKETS
                || all.length != LatencySketch.BUCKETS) {
            throw new IllegalArgumentException(
                    "a unit tail has " + LatencySketch.BUCKETS + " buckets of each count");
        }
    }

    /**
     * A window's tail: its sketch read at the bin {@code bound}, with the exact counts of the
     * window's scorings at or above that bin's lower bound and of all of them.
     */
    public static UnitTail of(LatencySketch sketch, int bound, long slowCount, long count) {
        double[] t = sketch.tail(bound);
        double[] slow = new double[LatencySketch.BUCKETS];
        double[] all = new double[LatencySketch.BUCKETS];
        System.arraycopy(t, 0, slow, 0, slow.length);
        System.arraycopy(t, slow.length, all, 0, all.length);
        return new UnitTail(slow, all, slowCount, count);
    }

    public UnitTail plus(UnitTail o) {
        double[] s = slow.clone();
        double[] a = all.clone();
        for (int b = 0; b < s.length; b++) {
            s[b] += o.slow[b];
            a[b] += o.all[b];
        }
        return new UnitTail(s, a, slowCount + o.slowCount, count + o.count);
    }

    /** {@code a + b} where either may be null (none counted). */
    public static UnitTail sum(UnitTail a, UnitTail b) {
        return a == null ? b : b == null ? a : a.plus(b);
    }

    /**
     * The slow share's variance over units over its binomial variance, at least 1: Σ_b (t_b −
     * p·a_b)² / (p(1 − p)·n), times n'/(n' − 1) for n' = n² / Σ_b a_b² the effective number of
     * units (the residuals of a dominant unit shrink towards 0). 1 without slow scorings or without
     * fast ones (nothing to vary), infinite below two effective units.
     */
    public double designEffect() {
        if (count == 0 || slowCount == 0 || slowCount == count) {
            return 1;
        }
        double p = (double) slowCount / count;
        double squares = 0;
        double f2 = 0;
        for (int b = 0; b < slow.length; b++) {
            double r = slow[b] - p * all[b];
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
