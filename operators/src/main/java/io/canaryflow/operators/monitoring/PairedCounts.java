package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.units.UnitSketch;
import java.util.Arrays;

/**
 * A shadow window's paired observations: for each event scored by both the served baseline and the
 * shadow candidate, whether their decisions at the threshold differ and how far their scores are
 * apart ({@code shadow - baseline}).
 *
 * @param flipsUp pairs the baseline decided negative and the shadow positive
 * @param flipsDown pairs the baseline decided positive and the shadow negative
 * @param sample score differences kept for the signed-rank test: the first {@link #SAMPLE} of the
 *     window per subtask, at most {@link #SAMPLE} × 4 after merging
 * @param units per-unit pairs (as attempts) and flips (as errors), for the flip rate's variance
 *     over units; null when unknown
 */
public record PairedCounts(
        long pairs,
        long flipsUp,
        long flipsDown,
        double deltaSum,
        double deltaSumSquares,
        double[] sample,
        UnitSketch units) {
    public static final int SAMPLE = 1_000;
    public static final PairedCounts NONE = new PairedCounts(0, 0, 0, 0, 0, new double[0], null);

    public PairedCounts plus(PairedCounts o) {
        int keep = Math.min(sample.length + o.sample.length, 4 * SAMPLE);
        double[] merged = Arrays.copyOf(sample, keep);
        System.arraycopy(o.sample, 0, merged, sample.length, keep - sample.length);
        return new PairedCounts(
                pairs + o.pairs,
                flipsUp + o.flipsUp,
                flipsDown + o.flipsDown,
                deltaSum + o.deltaSum,
                deltaSumSquares + o.deltaSumSquares,
                merged,
                (units != null || pairs == 0) && (o.units != null || o.pairs == 0)
                        ? UnitSketch.sum(units, o.units)
                        : null);
    }
}
