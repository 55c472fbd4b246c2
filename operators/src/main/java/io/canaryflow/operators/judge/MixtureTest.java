package io.canaryflow.operators.judge;

import java.io.Serializable;

/**
 * What the judge's exact sequential tests share: two e-processes, <b>harm</b> and <b>pass</b>, each
 * the average of likelihood ratios over a grid of {@link #GRID} alternatives (the boundary times
 * 1.25^j beyond it), kept as accumulated log ratios; their p-values min(1, 1/e-value), always-valid
 * as running minima (Ville's inequality). Subclasses add each window's log ratios to {@link
 * #harmLog} and {@link #passLog} and then {@link #look}.
 */
abstract class MixtureTest implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Alternatives per test. */
    static final int GRID = 24;

    /** Their spacing: 1.25 apart. */
    static final double STEP = Math.log(1.25);

    /** Accumulated log likelihood ratio of each harm alternative against the boundary. */
    final double[] harmLog = new double[GRID];

    /** The same for the pass alternatives. */
    final double[] passLog = new double[GRID];

    /** The divisor of the last look (1: the judge no longer divides; see {@link #look}). */
    private transient double lastDivisor = 1;

    /**
     * Updates the p-values, the accumulated evidence divided by {@code d} (at least 1; NaN counts
     * as 1, infinity leaves no evidence).
     */
    final void look(double d) {
        lastDivisor = d >= 1 ? d : 1;
    }

    /** min(1, 1 / the mixture's e-value), the logs divided by d, without overflow. */
    private static double pValue(double[] logs, double d) {
        double max = Double.NEGATIVE_INFINITY;
        for (double l : logs) {
            max = Math.max(max, l / d);
        }
        double sum = 0;
        for (double l : logs) {
            sum += Math.exp(l / d - max);
        }
        double logE = max + Math.log(sum / logs.length);
        return logE <= 0 ? 1 : Math.exp(-logE);
    }

    /** The harm test's state (log likelihood ratios per alternative), for {@link JudgeState}. */
    double[] harmLogs() {
        return harmLog.clone();
    }

    double[] passLogs() {
        return passLog.clone();
    }

    /** Restores a test from its state; none kept (an older state): the test starts over. */
    void restore(double[] harm, double[] pass) {
        if (harm == null || pass == null || harm.length != GRID || pass.length != GRID) {
            return;
        }
        System.arraycopy(harm, 0, harmLog, 0, GRID);
        System.arraycopy(pass, 0, passLog, 0, GRID);
    }

    /**
     * The harm test's p-value at the last look (not its running minimum): computed from the
     * accumulated evidence itself, so that a judge restored from its state reads what it would have
     * read without a restore.
     */
    public double lastHarmP() {
        return pValue(harmLog, lastDivisor);
    }

    /** The pass test's p-value at the last look (not its running minimum). */
    public double lastPassP() {
        return pValue(passLog, lastDivisor);
    }
}
