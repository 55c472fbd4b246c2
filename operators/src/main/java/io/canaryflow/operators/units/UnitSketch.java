package io.canaryflow.operators.units;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Per-unit totals of one arm, summarised so that unit-level (cluster-robust) variances can be
 * computed without keeping any state per unit: a Count-Sketch (Charikar, Chen and Farach-Colton,
 * 2002) of the vector of per-unit totals of each {@link Quantity}.
 *
 * <p>Each of {@link #ROWS} rows hashes a unit to one of {@link #BUCKETS} buckets and a random sign,
 * and adds the sign times the unit's contribution to the bucket. The sketch is linear: the sketch
 * of two sets of events is the sum of their sketches, wherever and in whatever order the events
 * were counted. So sketches are built per scoring task and window, added up by the merge and the
 * judge like every other count, survive failures exactly once with them, and stay correct when a
 * unit's events are spread over several tasks (a producer that does not key by unit).
 *
 * <p>What it estimates: for per-unit totals X_u and Y_u of two quantities and a number r, {@link
 * #sumOfSquares} estimates Σ_u (X_u − r·Y_u)². In each row, Σ_b (Σ_{u in b} s_u (X_u − r Y_u))² has
 * expectation exactly Σ_u (X_u − r Y_u)² (the cross terms of different units cancel in expectation
 * through their independent signs); the rows' mean is the estimate, with relative standard
 * deviation at most sqrt(2 / (ROWS · BUCKETS)) ≈ 4.4 % — less when a few heavy units dominate the
 * sum, as they are then counted almost alone in their buckets (Alon, Matias and Szegedy, 1996).
 *
 * <p>With X the errors and Y the attempts of each unit and r = ΣX / ΣY the arm's rate, Σ_u (X_u −
 * r·Y_u)² / (ΣY)² is the cluster-robust (sandwich, CR0) variance of the rate, the delta-method
 * variance of a ratio metric over independently randomized units that experimentation platforms use
 * (Deng, Knoblich and Lu, "Applying the Delta Method in Metric Analytics", KDD 2018). With X = Y =
 * the attempts, Σ_u Y_u² is the variance term of the arms' traffic split under unit-level
 * randomization, which the sample-ratio check needs.
 *
 * <p>Size: {@code QUANTITIES · ROWS · BUCKETS} doubles (40 KiB) per arm and window, whatever the
 * number of units; nothing per unit.
 *
 * @param counters {@code [row][bucket][quantity]}, flattened
 */
public record UnitSketch(double[] counters) implements Serializable {
    public static final int ROWS = 4;
    public static final int BUCKETS = 256;

    /** What is counted per unit. */
    public enum Quantity {
        /** Scoring attempts. */
        ATTEMPTS,
        /** Attempts that failed or timed out (the inference error rate's events). */
        ERRORS,
        /** Predictions (attempts that scored). */
        SCORED,
        /** The sum of the predictions' finite scores. */
        SCORE_SUM,
        /**
         * 1 for each bucket in which the unit was active: a tumbling window, or one slide of a
         * sliding window (counted where its events were scored: once per bucket when a unit's
         * events share a scoring task, as Kafka keys give). A sliding window's sketch, the sum of
         * its buckets', so counts a unit once per slide it was active in, more than the window's
         * distinct units: a variance taken from it is larger than the distinct count's.
         */
        ACTIVE
    }

    private static final int QUANTITIES = 5; // Quantity.values().length, fixed by add()
    private static final int SIZE = QUANTITIES * ROWS * BUCKETS;

    public UnitSketch {
        if (counters == null || counters.length != SIZE) {
            throw new IllegalArgumentException(
                    "a unit sketch has "
                            + SIZE
                            + " counters, got "
                            + (counters == null ? null : counters.length));
        }
    }

    /** An empty sketch. */
    public UnitSketch() {
        this(new double[SIZE]);
    }

    /**
     * A 64-bit hash of a unit id, the same in every task and run (FNV-1a over its characters, then
     * a SplitMix64 finaliser).
     */
    public static long hash(String unit) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < unit.length(); i++) {
            h ^= unit.charAt(i);
            h *= 0x100000001b3L;
        }
        return mix(h);
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    /**
     * Adds one unit's contribution to every quantity (in {@link Quantity} order). The rows' buckets
     * and signs are 9-bit fields of one 64-bit mix of the unit's hash; a bucket's quantities lie
     * side by side, so an addition touches one cache line per row.
     */
    public void add(
            long unitHash,
            double attempts,
            double errors,
            double scored,
            double scoreSum,
            double active) {
        long h = mix(unitHash + 0x9e3779b97f4a7c15L);
        for (int row = 0; row < ROWS; row++, h >>>= 9) {
            int at = (row * BUCKETS + (int) (h & (BUCKETS - 1))) * QUANTITIES;
            double sign = (h & BUCKETS) == 0 ? 1 : -1;
            counters[at] += sign * attempts;
            counters[at + 1] += sign * errors;
            counters[at + 2] += sign * scored;
            counters[at + 3] += sign * scoreSum;
            counters[at + 4] += sign * active;
        }
    }

    /** The sketch of both sets of events. */
    public UnitSketch plus(UnitSketch o) {
        double[] sum = counters.clone();
        for (int i = 0; i < SIZE; i++) {
            sum[i] += o.counters[i];
        }
        return new UnitSketch(sum);
    }

    /** {@code a + b} where either may be null (no sketch). */
    public static UnitSketch sum(UnitSketch a, UnitSketch b) {
        return a == null ? b : b == null ? a : a.plus(b);
    }

    /** The estimate of Σ_u (X_u − r·Y_u)² over the units, X and Y their totals of x and y. */
    public double sumOfSquares(Quantity x, Quantity y, double r) {
        int ox = x.ordinal();
        int oy = y.ordinal();
        double total = 0;
        for (int at = 0; at < SIZE; at += QUANTITIES) {
            double v = counters[at + ox] - r * counters[at + oy];
            total += v * v;
        }
        return total / ROWS;
    }

    /**
     * The cluster-robust variance of the ratio ΣX / ΣY with the heaviest unit's residual taken
     * leave-one-out: a unit with share w of ΣY pulls the ratio towards its own, so its residual is
     * (1 − w) of the one it would have against the others, and the jackknife (CR3) divides it by (1
     * − w)². Per row, the bucket with the largest |Y| stands for the heaviest unit (it dominates
     * its bucket when it matters); the other buckets are taken as they are. Infinite when one unit
     * holds 99 % or more of ΣY: its scorings say nothing of other units. NaN when {@code sumY} is
     * 0.
     */
    public double ratioVarianceLeavingOutTheHeaviest(
            Quantity x, Quantity y, double sumX, double sumY) {
        return ratioVarianceLeavingOutTheHeaviest(x, y, sumX, sumY, sumX / sumY);
    }

    /**
     * As {@link #ratioVarianceLeavingOutTheHeaviest(Quantity, Quantity, double, double)}, with
     * every unit's residual taken against the ratio {@code r} instead of ΣX / ΣY: the variance were
     * the ratio {@code r} (a test's boundary, as a score test takes it).
     */
    public double ratioVarianceLeavingOutTheHeaviest(
            Quantity x, Quantity y, double sumX, double sumY, double r) {
        return ratioVarianceCorrectingTheHeaviest(x, y, sumX, sumY, r, true);
    }

    /**
     * As {@link #ratioVarianceLeavingOutTheHeaviest(Quantity, Quantity, double, double, double)},
     * with the heaviest unit's residual divided by its leverage's complement 1 − w instead of (1 −
     * w)²: the bias-reduced linearization (CR2, Bell and McCaffrey), unbiased where units'
     * residuals are alike, smaller than the jackknife's. Every unit's residual is taken against
     * {@code r} (ΣX / ΣY for the estimate's own variance).
     */
    public double ratioVarianceByLeverageOfTheHeaviest(
            Quantity x, Quantity y, double sumX, double sumY, double r) {
        return ratioVarianceCorrectingTheHeaviest(x, y, sumX, sumY, r, false);
    }

    private double ratioVarianceCorrectingTheHeaviest(
            Quantity x, Quantity y, double sumX, double sumY, double r, boolean jackknife) {
        if (!(sumY > 0)) {
            return Double.NaN;
        }
        int ox = x.ordinal();
        int oy = y.ordinal();
        double total = 0;
        for (int row = 0; row < ROWS; row++) {
            double squares = 0;
            double heaviest = 0;
            double residualOfHeaviest = 0;
            for (int b = 0; b < BUCKETS; b++) {
                int at = (row * BUCKETS + b) * QUANTITIES;
                double v = counters[at + ox] - r * counters[at + oy];
                squares += v * v;
                if (Math.abs(counters[at + oy]) > heaviest) {
                    heaviest = Math.abs(counters[at + oy]);
                    residualOfHeaviest = v;
                }
            }
            double w = Math.min(1, heaviest / sumY);
            if (w >= 0.99) {
                return Double.POSITIVE_INFINITY;
            }
            double rest = 1 - w;
            double inflation = jackknife ? 1 / (rest * rest) : 1 / rest;
            squares += residualOfHeaviest * residualOfHeaviest * (inflation - 1);
            total += squares;
        }
        return total / ROWS / (sumY * sumY);
    }

    /**
     * An estimate of the largest unit's total of {@code q}, max_u |X_u|: per row the largest bucket
     * in absolute value (a heavy unit dominates its bucket), the median over the rows. It errs
     * upwards when light units share the heavy one's bucket, never by much when one unit dominates.
     */
    public double largest(Quantity q) {
        int o = q.ordinal();
        double[] perRow = new double[ROWS];
        for (int row = 0; row < ROWS; row++) {
            double max = 0;
            for (int b = 0; b < BUCKETS; b++) {
                max = Math.max(max, Math.abs(counters[(row * BUCKETS + b) * QUANTITIES + o]));
            }
            perRow[row] = max;
        }
        java.util.Arrays.sort(perRow);
        return (perRow[ROWS / 2 - 1] + perRow[ROWS / 2]) / 2;
    }

    /** The estimate of Σ_u X_u² over the units, X their totals of q. */
    public double sumOfSquares(Quantity q) {
        return sumOfSquares(q, q, 0);
    }

    /**
     * The cluster-robust variance of the ratio ΣX / ΣY over independently randomized units, from
     * the exact totals {@code sumX} and {@code sumY}; NaN when {@code sumY} is 0.
     */
    public double ratioVariance(Quantity x, Quantity y, double sumX, double sumY) {
        if (!(sumY > 0)) {
            return Double.NaN;
        }
        double r = sumX / sumY;
        return sumOfSquares(x, y, r) / (sumY * sumY);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof UnitSketch s && Arrays.equals(counters, s.counters);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(counters);
    }

    @Override
    public String toString() {
        return "UnitSketch[F2(attempts)≈" + sumOfSquares(Quantity.ATTEMPTS) + "]";
    }
}
