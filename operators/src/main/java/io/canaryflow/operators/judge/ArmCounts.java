package io.canaryflow.operators.judge;

import io.canaryflow.operators.units.UnitSketch;
import io.canaryflow.operators.units.UnitTail;
import java.io.Serializable;

/**
 * One arm's counts, from the monitoring reports of a window (or added up over several).
 *
 * @param attempts scorings routed to the arm (predictions and inference errors)
 * @param errors inference errors among them
 * @param labelled predictions joined with their label
 * @param labelErrors misclassified among them
 * @param scored scorings with a latency (predictions)
 * @param slow among them, those slower than the latency guardrail's cut (its ratio times the
 *     control's p99 in the same window)
 * @param scoreSum sum of the scores of {@code scored}
 * @param scoreSumSquares sum of their squares
 * @param pairs (a shadow arm) events also scored by the served baseline
 * @param flips among them, those whose decision at the threshold differs from the baseline's
 * @param scoreBins scores per bin of the experiment's shared score bins (empty when unknown)
 * @param activeUnits units with an attempt, per window, added up over windows (unit-windows)
 * @param slowLow among the scorings, those slower than the latency guardrail's lower cut (its ratio
 *     times the lower confidence bound of the control's p99; {@code slow} uses the upper)
 * @param labelUnits per-unit totals of joined labels (as attempts) and misclassified ones (as
 *     errors), for the label error rate's variance over units; null when unknown
 * @param units per-unit totals of attempts, errors and scores ({@link UnitSketch}), for variances
 *     over units, the randomization unit; null when unknown (then events are taken as independent)
 * @param slowUnits per-unit counts of the scorings slower than each window's upper cut ({@link
 *     UnitTail}), for the latency test's design effect over units, over the windows that had
 *     latencies per unit (the design effect is a ratio of their own counts); null when none did
 * @param pairUnits (a shadow arm) per-unit pairs (as attempts) and flips (as errors), for the flip
 *     rate's variance over units; null when unknown
 * @param cutScored the scorings counted against a latency cut ({@code slow} and {@code slowLow} are
 *     among them): the latency guardrail's n. A monitoring window whose control had no latencies
 *     has no cut, and its candidate's scorings count for neither side
 * @param lost events routed to the arm that it never reported as a prediction or an inference error
 *     (the route operator counts what it routes; 0 where routing is not counted): the inference
 *     error rate counts them as failures, and a candidate that loses more than its control is not
 *     promoted
 */
public record ArmCounts(
        long attempts,
        long errors,
        long labelled,
        long labelErrors,
        long scored,
        long slow,
        double scoreSum,
        double scoreSumSquares,
        long pairs,
        long flips,
        long[] scoreBins,
        long activeUnits,
        UnitSketch units,
        long slowLow,
        UnitSketch labelUnits,
        UnitTail slowUnits,
        UnitSketch pairUnits,
        long cutScored,
        long lost)
        implements Serializable {
    public static final ArmCounts NONE =
            new ArmCounts(
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, new long[0], 0, null, 0, null, null, null, 0, 0);

    /**
     * Counts set field by field (for simulations and tests; the monitoring reports' counts are
     * built whole by {@link Rollout}): every field not set is 0 or null, except {@code slowLow},
     * which is {@code slow} unless set (one latency cut), and {@code cutScored}, which is {@code
     * scored} unless set (every scoring counted against a cut).
     */
    public static Builder builder() {
        return new Builder();
    }

    public ArmCounts plus(ArmCounts o) {
        return new ArmCounts(
                attempts + o.attempts,
                errors + o.errors,
                labelled + o.labelled,
                labelErrors + o.labelErrors,
                scored + o.scored,
                slow + o.slow,
                scoreSum + o.scoreSum,
                scoreSumSquares + o.scoreSumSquares,
                pairs + o.pairs,
                flips + o.flips,
                addBins(scoreBins, o.scoreBins),
                activeUnits + o.activeUnits,
                covered(this) && covered(o) ? UnitSketch.sum(units, o.units) : null,
                slowLow + o.slowLow,
                (labelUnits != null || labelled == 0) && (o.labelUnits != null || o.labelled == 0)
                        ? UnitSketch.sum(labelUnits, o.labelUnits)
                        : null,
                // a ratio of the covered windows' own counts: windows without it just add nothing
                UnitTail.sum(slowUnits, o.slowUnits),
                (pairUnits != null || pairs == 0) && (o.pairUnits != null || o.pairs == 0)
                        ? UnitSketch.sum(pairUnits, o.pairUnits)
                        : null,
                cutScored + o.cutScored,
                lost + o.lost);
    }

    /** These counts with joined labels, the misclassified among them, and their unit sketch. */
    ArmCounts withLabels(long labelled, long labelErrors, UnitSketch labelUnits) {
        return new Builder(this)
                .labelled(labelled)
                .labelErrors(labelErrors)
                .labelUnits(labelUnits)
                .build();
    }

    /** These counts with a shadow's pairs, the flips among them, and their unit sketch. */
    ArmCounts withPairs(long pairs, long flips, UnitSketch pairUnits) {
        return new Builder(this).pairs(pairs).flips(flips).pairUnits(pairUnits).build();
    }

    /**
     * These counts with their scorings and those slower than a latency guardrail's upper ({@code
     * slow}) and lower ({@code slowLow}) cut, and the slow ones per unit (null when unknown).
     */
    ArmCounts withLatency(long scored, long slow, long slowLow, UnitTail slowUnits) {
        return new Builder(this)
                .scored(scored)
                .slow(slow)
                .slowLow(slowLow)
                .slowUnits(slowUnits)
                .cutScored(scored)
                .build();
    }

    /** These counts with {@code lost} routed events never reported. */
    ArmCounts withLost(long lost) {
        return new Builder(this).lost(lost).build();
    }

    /** Builds counts field by field (see {@link #builder}). */
    public static final class Builder {
        private long attempts;
        private long errors;
        private long labelled;
        private long labelErrors;
        private long scored;
        private long slow;
        private double scoreSum;
        private double scoreSumSquares;
        private long pairs;
        private long flips;
        private long[] scoreBins = new long[0];
        private long activeUnits;
        private UnitSketch units;
        private long slowLow;
        private UnitSketch labelUnits;
        private UnitTail slowUnits;
        private UnitSketch pairUnits;
        private long cutScored;
        private long lost;
        private boolean slowLowSet;
        private boolean cutScoredSet;

        private Builder() {}

        /** A copy of {@code a}, to change some of its fields. */
        private Builder(ArmCounts a) {
            attempts = a.attempts;
            errors = a.errors;
            labelled = a.labelled;
            labelErrors = a.labelErrors;
            scored = a.scored;
            slow = a.slow;
            scoreSum = a.scoreSum;
            scoreSumSquares = a.scoreSumSquares;
            pairs = a.pairs;
            flips = a.flips;
            scoreBins = a.scoreBins;
            activeUnits = a.activeUnits;
            units = a.units;
            slowLow = a.slowLow;
            labelUnits = a.labelUnits;
            slowUnits = a.slowUnits;
            pairUnits = a.pairUnits;
            cutScored = a.cutScored;
            lost = a.lost;
            slowLowSet = true;
            cutScoredSet = true;
        }

        public Builder attempts(long attempts) {
            this.attempts = attempts;
            return this;
        }

        public Builder errors(long errors) {
            this.errors = errors;
            return this;
        }

        public Builder labelled(long labelled) {
            this.labelled = labelled;
            return this;
        }

        public Builder labelErrors(long labelErrors) {
            this.labelErrors = labelErrors;
            return this;
        }

        public Builder scored(long scored) {
            this.scored = scored;
            return this;
        }

        public Builder slow(long slow) {
            this.slow = slow;
            return this;
        }

        public Builder scoreSum(double scoreSum) {
            this.scoreSum = scoreSum;
            return this;
        }

        public Builder scoreSumSquares(double scoreSumSquares) {
            this.scoreSumSquares = scoreSumSquares;
            return this;
        }

        public Builder pairs(long pairs) {
            this.pairs = pairs;
            return this;
        }

        public Builder flips(long flips) {
            this.flips = flips;
            return this;
        }

        public Builder scoreBins(long[] scoreBins) {
            this.scoreBins = scoreBins;
            return this;
        }

        public Builder activeUnits(long activeUnits) {
            this.activeUnits = activeUnits;
            return this;
        }

        public Builder units(UnitSketch units) {
            this.units = units;
            return this;
        }

        public Builder slowLow(long slowLow) {
            this.slowLow = slowLow;
            slowLowSet = true;
            return this;
        }

        public Builder labelUnits(UnitSketch labelUnits) {
            this.labelUnits = labelUnits;
            return this;
        }

        public Builder slowUnits(UnitTail slowUnits) {
            this.slowUnits = slowUnits;
            return this;
        }

        public Builder pairUnits(UnitSketch pairUnits) {
            this.pairUnits = pairUnits;
            return this;
        }

        public Builder cutScored(long cutScored) {
            this.cutScored = cutScored;
            cutScoredSet = true;
            return this;
        }

        public Builder lost(long lost) {
            this.lost = lost;
            return this;
        }

        public ArmCounts build() {
            return new ArmCounts(
                    attempts,
                    errors,
                    labelled,
                    labelErrors,
                    scored,
                    slow,
                    scoreSum,
                    scoreSumSquares,
                    pairs,
                    flips,
                    scoreBins,
                    activeUnits,
                    units,
                    slowLowSet ? slowLow : slow,
                    labelUnits,
                    slowUnits,
                    pairUnits,
                    cutScoredSet ? cutScored : scored,
                    lost);
        }
    }

    /**
     * Whether every attempt of the counts is in its sketch: one without a sketch but with attempts
     * (from before sketches) would leave the sum's sketch covering part of its counts, and its
     * variances too small; then the sum has none.
     */
    private static boolean covered(ArmCounts c) {
        return c.units != null || c.attempts == 0;
    }

    private static long[] addBins(long[] a, long[] b) {
        if (a.length == 0 || b.length == 0) {
            return a.length == 0 ? b.clone() : a.clone();
        }
        long[] out = a.clone();
        for (int i = 0; i < Math.min(a.length, b.length); i++) {
            out[i] += b[i];
        }
        return out;
    }

    long n(Guardrail.Metric metric) {
        return switch (metric) {
            case INFERENCE_ERROR_RATE -> attempts + lost;
            case LABEL_ERROR_RATE -> labelled;
            case LATENCY_P99_RATIO -> cutScored;
            case SCORE_SHIFT, SCORE_PSI -> scored;
            case FLIP_RATE -> pairs;
        };
    }

    long events(Guardrail.Metric metric) {
        return switch (metric) {
            case INFERENCE_ERROR_RATE -> errors + lost;
            case LABEL_ERROR_RATE -> labelErrors;
            case LATENCY_P99_RATIO -> slow;
            case FLIP_RATE -> flips;
            case SCORE_SHIFT, SCORE_PSI ->
                    throw new IllegalArgumentException("the score is not a count");
        };
    }
}
