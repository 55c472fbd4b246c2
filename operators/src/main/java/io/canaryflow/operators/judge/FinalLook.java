package io.canaryflow.operators.judge;

import io.canaryflow.operators.drift.SpecialFunctions;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The planned final look's critical values with the α the mixture leaves unspent.
 *
 * <p>A guardrail against an increase runs its always-valid mixture at α·(1 − {@link
 * Judge#FINAL_SHARE}) at every look and a fixed-horizon z-test at the first look at a maximum
 * duration. Split by Bonferroni, the final z-test gets α·FINAL_SHARE, as if the mixture's errors
 * and the z-test's never coincided. They mostly do: a path that ends far beyond the boundary is the
 * one the mixture crosses, before or after. So this class finds, for the information the final look
 * has, the critical value {@code c} at which the whole procedure — the mixture at every look,
 * before the final one and after it (the judge keeps judging harm while an inconclusive rollout
 * waits for a person, and a RESUME goes on), and the z-test once — errs with probability at most
 * the level: α spent jointly, as a group-sequential design does (Jennison and Turnbull, "Group
 * Sequential Methods with Applications to Clinical Trials", 2000, ch. 7).
 *
 * <p><b>How.</b> At the boundary the estimate's path is Brownian motion in information, the
 * asymptotic model the mixture itself rests on (Waudby-Smith et al., 2024). The mixture's boundary
 * in standard errors depends only on u = τ²/V, the information relative to the mixing variance, so
 * one simulation serves every guardrail: {@value #PATHS} seeded paths on a grid of {@value
 * #STEPS_PER_DECADE} steps per decade of u from 10⁻³ to 10⁶, each monitored for the boundary of
 * every level of the ladder. A path counts as crossed if it crosses at any grid point, and since
 * Ville's inequality bounds the mixture's crossings of the continuous path over all information by
 * its level, whatever of that level the grid's crossings do not use counts as crossed too: so
 * crossings between grid points, beyond the grid, or at looks denser than the grid are all covered,
 * and the judge's own looks (a subset of the continuous path) cross no more. At a table point u and
 * level a, {@code c} is the smallest value such that the crossed paths, that remainder, and the
 * paths that never cross but end above {@code c} number at most a·N less two Monte-Carlo standard
 * errors; made non-increasing in a, capped by the Bonferroni value, and read as the larger of the
 * table points around the look's u (beyond the table: Bonferroni). So the procedure errs at most α
 * up to the asymptotic model and the simulation's margin (each cell holds with about 97.7 %
 * probability over the simulation's own randomness). The generator is SplitMix64 written out with
 * StrictMath: every JVM computes the same draws. The table takes about a second, once per α; the
 * judge builds the default α's in the background when it opens.
 *
 * <p><b>The p-value</b> of a final look is the smallest level of the ladder α/j (j = 1 … {@value
 * #LEVELS}) at which the procedure rejects: α itself and the levels Holm's step-down compares with
 * (for up to {@value #LEVELS} guardrails); below α/{@value #LEVELS}, the Bonferroni p-value.
 */
final class FinalLook {
    private FinalLook() {}

    /** The ladder's levels: α/1 … α/LEVELS. */
    static final int LEVELS = 16;

    static final int PATHS = 20_000;
    static final int STEPS_PER_DECADE = 200;
    private static final double U_MIN = 1e-3;
    private static final int DECADES = 9; // up to u = 10⁶
    private static final int TABLE_PER_DECADE = 8;
    private static final long SEED = 20261206L;

    private static final Map<Double, double[][]> TABLES = new ConcurrentHashMap<>();

    /**
     * The final look's p-value at level {@code alpha}: the smallest α/j at which a z statistic
     * {@code z} at information {@code u} (τ²/V) rejects together with a mixture whose running
     * p-value at this look is {@code sequential} (the mixture's own p-value, compared with α/j·(1 −
     * FINAL_SHARE)); at most the Bonferroni p-value, which it is where {@code u} is not positive (a
     * test that keeps Bonferroni's split asks for it so) or beyond the table.
     */
    static double pValue(double sequential, double z, double u, double alpha) {
        double share = Judge.FINAL_SHARE;
        double bonferroni =
                Math.min(
                        Math.min(1, sequential / (1 - share)),
                        Math.min(1, DeltaMethodSprt.fixedP(z) / share));
        if (!(u > 0) || Double.isNaN(z)) {
            return bonferroni;
        }
        if (tablePoint(u) >= DECADES * TABLE_PER_DECADE + 1) {
            return bonferroni;
        }
        double p = 1;
        for (int j = 1; j <= LEVELS; j++) {
            double level = alpha / j;
            if (sequential <= level * (1 - share) || z > critical(u, alpha, j)) {
                p = level; // nested: a rejection at α/j is one at every larger level
            } else {
                break;
            }
        }
        return Math.min(p, bonferroni);
    }

    /**
     * The critical value at level α/j for information u: the larger of the two table points around
     * u (Bonferroni's beyond the table).
     */
    static double critical(double u, double alpha, int j) {
        double[][] table = TABLES.computeIfAbsent(alpha, FinalLook::simulate);
        int k = tablePoint(u);
        if (k >= table.length) {
            return bonferroniCritical(alpha / j);
        }
        return Math.max(table[k][j - 1], table[Math.max(0, k - 1)][j - 1]);
    }

    /** The index of the table point at or above u (u ≥ U_MIN·10^(k/TABLE_PER_DECADE)). */
    private static int tablePoint(double u) {
        double k = Math.ceil(TABLE_PER_DECADE * Math.log10(Math.max(u, U_MIN) / U_MIN) - 1e-9);
        return (int) Math.max(0, Math.min(Integer.MAX_VALUE, k));
    }

    /** The z above which the Bonferroni share of {@code level} rejects: Φ⁻¹(1 − level·share). */
    static double bonferroniCritical(double level) {
        double tail = level * Judge.FINAL_SHARE;
        double lo = -40;
        double hi = 40;
        for (int i = 0; i < 100; i++) { // 1 − Φ(x) = Φ(−x) falls as x grows
            double mid = 0.5 * (lo + hi);
            if (SpecialFunctions.normalCdf(-mid) > tail) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return hi;
    }

    /** The table: per table point of u, per level α/j, the critical value of the final z. */
    private static double[][] simulate(double alpha) {
        double share = Judge.FINAL_SHARE;
        int steps = DECADES * STEPS_PER_DECADE;
        int every = STEPS_PER_DECADE / TABLE_PER_DECADE;
        int points = DECADES * TABLE_PER_DECADE + 1;
        // the boundary in S (the sum: u·estimate) at each grid point and level
        double[] u = new double[steps + 1];
        for (int i = 0; i <= steps; i++) {
            u[i] = U_MIN * StrictMath.pow(10, (double) i / STEPS_PER_DECADE);
        }
        double[][] boundary = new double[LEVELS][steps + 1];
        for (int j = 1; j <= LEVELS; j++) {
            double level = alpha / j * (1 - share);
            for (int i = 0; i <= steps; i++) {
                // with τ² = 1: V = 1/u, the radius in estimate units, times u for the sum
                boundary[j - 1][i] = u[i] * MixtureSprt.oneSidedRadius(1 / u[i], 1, level);
            }
        }
        // per table point and path: z, and the deepest level the path crosses anywhere on the
        // grid (0: none; before the look or after it, as the judge keeps judging harm after an
        // inconclusive final look), in one long that sorts as z does
        long[][] paths = new long[points][PATHS];
        float[] zAt = new float[points];
        long[] random = {SEED};
        for (int n = 0; n < PATHS; n++) {
            double s = gaussian(random) * StrictMath.sqrt(u[0]);
            int deepest = 0;
            for (int i = 0; i <= steps; i++) {
                if (i > 0) {
                    s += gaussian(random) * StrictMath.sqrt(u[i] - u[i - 1]);
                }
                while (deepest < LEVELS && s >= boundary[deepest][i]) {
                    deepest++;
                }
                if (i % every == 0) {
                    zAt[i / every] = (float) (s / StrictMath.sqrt(u[i]));
                }
            }
            for (int k = 0; k < points; k++) {
                paths[k][n] = encode(zAt[k], deepest);
            }
        }
        // per level: the paths that never cross and may still end above c (a path's crossings
        // are the same at every table point)
        int[] rejectable = new int[LEVELS + 1];
        for (int j = 1; j <= LEVELS; j++) {
            double level = alpha / j;
            double budget = level * PATHS - 2 * Math.sqrt(level * (1 - level) * PATHS);
            int crossings = 0;
            for (long p : paths[0]) {
                crossings += (p & 0xff) >= j ? 1 : 0;
            }
            // crossings beyond the grid: at most what Ville's inequality leaves of the level
            budget -= Math.max(0, level * (1 - share) * PATHS - crossings);
            rejectable[j] = (int) Math.floor(budget) - crossings;
        }
        double[][] table = new double[points][LEVELS];
        for (int k = 0; k < points; k++) {
            long[] sorted = paths[k];
            Arrays.sort(sorted); // ascending z: the largest last
            for (int j = 1; j <= LEVELS; j++) {
                double level = alpha / j;
                double c = Double.POSITIVE_INFINITY;
                if (rejectable[j] >= 0) {
                    c = Double.NEGATIVE_INFINITY;
                    int free = 0;
                    for (int n = PATHS - 1; n >= 0; n--) {
                        if ((sorted[n] & 0xff) < j && free++ == rejectable[j]) {
                            c = z(sorted[n]); // the first path that must not reject
                            break;
                        }
                    }
                }
                c = Math.min(c, bonferroniCritical(level));
                if (j > 1) {
                    c = Math.max(c, table[k][j - 2]); // a smaller level never rejects more
                }
                table[k][j - 1] = c;
            }
        }
        return table;
    }

    /** z and a crossed level in a long whose order is z's. */
    private static long encode(float z, int level) {
        int bits = Float.floatToIntBits(z);
        bits ^= (bits >> 31) & 0x7fffffff;
        return ((long) bits << 8) | level;
    }

    private static double z(long encoded) {
        int bits = (int) (encoded >> 8);
        bits ^= (bits >> 31) & 0x7fffffff;
        return Float.intBitsToFloat(bits);
    }

    /**
     * A standard normal draw (Marsaglia's polar method) from SplitMix64 (Steele, Lea and Flood,
     * 2014), written out here with StrictMath so that the draws are the same on every JVM.
     */
    private static double gaussian(long[] state) {
        while (true) {
            double x = 2 * uniform(state) - 1;
            double y = 2 * uniform(state) - 1;
            double r = x * x + y * y;
            if (r > 0 && r < 1) {
                return x * StrictMath.sqrt(-2 * StrictMath.log(r) / r);
            }
        }
    }

    private static double uniform(long[] state) {
        long z = (state[0] += 0x9e3779b97f4a7c15L);
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53;
    }

    /**
     * Builds {@code alpha}'s table on a background thread, unless built, so no task waits later.
     */
    static void warm(double alpha) {
        if (TABLES.containsKey(alpha)) {
            return;
        }
        Thread t = new Thread(() -> critical(1, alpha, 1), "canaryflow-final-look-table");
        t.setDaemon(true);
        t.start();
    }
}
