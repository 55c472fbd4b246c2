package io.canaryflow.operators.judge;

import io.canaryflow.operators.units.UnitSketch;

/**
 * One arm's estimate of a guardrail's metric, with its variance over units, the randomization unit
 * (as GrowthBook's {@code gbstats} keeps a proportion and a sample mean apart, each with its own
 * variance): a {@link Proportion} for the rates, a {@link MeanScore} for the score.
 */
sealed interface Statistic permits Statistic.Proportion, Statistic.MeanScore {
    /** Observations: trials of a rate, scorings of a score. */
    long n();

    /** The rate, or the mean score. */
    double mean();

    /** The variance of {@link #mean} over units, never below its value over independent trials. */
    double variance();

    /**
     * The variance of {@link #mean} over units alone: the cluster-robust (delta-method) variance of
     * the ratio of the arm's per-unit totals (Deng, Knoblich and Lu, KDD 2018), from its {@link
     * UnitSketch}, with the heaviest unit's residual divided by 1 − w for its share w (CR2) for
     * error rates, by (1 − w)² (the jackknife's) for a shadow's flip rate and the mean score, times
     * n'/(n' − 1) for n' effective units (the residuals of heavy units shrink towards 0 when few
     * dominate); NaN without a sketch, infinite when one unit carries the arm.
     */
    double overUnits();

    /**
     * (Σ_u Y_u)² / Σ_u Y_u², Y_u a unit's trials: as many units as the arm counts when all weigh
     * the same, about 1 when one unit dominates; NaN without a sketch.
     */
    double effectiveUnits();

    /** The arm's statistic of {@code metric} (not the latency share or the score's bins). */
    static Statistic of(ArmCounts arm, Guardrail.Metric metric) {
        return switch (metric) {
            case SCORE_SHIFT ->
                    new MeanScore(arm.scored(), arm.scoreSum(), arm.scoreSumSquares(), arm.units());
            case INFERENCE_ERROR_RATE ->
                    // lost scorings count as failures, in no unit's totals (none is known)
                    new Proportion(arm.events(metric), arm.n(metric), arm.units(), false);
            case LABEL_ERROR_RATE ->
                    new Proportion(arm.labelErrors(), arm.labelled(), arm.labelUnits(), false);
            case FLIP_RATE -> new Proportion(arm.flips(), arm.pairs(), arm.pairUnits(), true);
            case LATENCY_P99_RATIO, SCORE_PSI ->
                    throw new IllegalArgumentException(metric + " has no statistic of its own");
        };
    }

    /**
     * A rate: events over trials, per-unit totals in the sketch's ERRORS and ATTEMPTS.
     *
     * @param flipRate a shadow's flip rate: 0 without pairs (the control flips against itself
     *     never); tested alone against its threshold, with no control's variance beside its own, so
     *     its heaviest unit is taken leave-one-out (the jackknife's (1 − w)²: with CR2's 1 − w, 7.7
     *     % of the heavy population's shadows flipping exactly at the threshold passed, beyond the
     *     7.5 % that 300 rollouts allow at α 5 %; 7.3 % with the jackknife)
     */
    record Proportion(long events, long trials, UnitSketch units, boolean flipRate)
            implements Statistic {
        @Override
        public long n() {
            return trials;
        }

        @Override
        public double mean() {
            return flipRate && trials == 0 ? 0 : (double) events / trials;
        }

        /**
         * max(p(1 − p)/n with p estimated as (x + ½)/(n + 1), so that an arm without a single error
         * still has a positive variance; the variance over units).
         */
        @Override
        public double variance() {
            if (flipRate && trials == 0) {
                return 0;
            }
            double p = (events + 0.5) / (trials + 1.0);
            return atLeast(p * (1 - p) / trials, overUnits());
        }

        @Override
        public double overUnits() {
            return overUnitsAt((double) events / trials);
        }

        /**
         * {@link #overUnits} were the rate {@code rate}: every unit's residual taken against it
         * (NaN without a sketch; infinite without trials, as for one unit alone).
         */
        double overUnitsAt(double rate) {
            if (units == null) {
                return Double.NaN;
            }
            double v =
                    flipRate
                            ? units.ratioVarianceLeavingOutTheHeaviest(
                                    UnitSketch.Quantity.ERRORS,
                                    UnitSketch.Quantity.ATTEMPTS,
                                    events,
                                    trials,
                                    rate)
                            : units.ratioVarianceByLeverageOfTheHeaviest(
                                    UnitSketch.Quantity.ERRORS,
                                    UnitSketch.Quantity.ATTEMPTS,
                                    events,
                                    trials,
                                    rate);
            return corrected(v, effectiveUnits());
        }

        @Override
        public double effectiveUnits() {
            return Statistic.effectiveUnits(units, UnitSketch.Quantity.ATTEMPTS, trials);
        }

        /**
         * How much more the rate varies over units than over independent trials: its variance over
         * units over the binomial one, at least 1 (1 without per-unit counts).
         */
        double designEffect() {
            double overUnits = overUnits();
            if (overUnits == Double.POSITIVE_INFINITY) {
                return overUnits; // one unit carries the arm: not judged
            }
            if (!Double.isFinite(overUnits) || trials == 0) {
                return 1;
            }
            double p = (double) events / trials;
            double binomial = p * (1 - p) / trials;
            return binomial > 0 ? Math.max(1, overUnits / binomial) : 1;
        }
    }

    /**
     * A mean score: its sum and sum of squares, per-unit totals in SCORE_SUM and SCORED. Its
     * heaviest unit is taken leave-one-out (the jackknife's (1 − w)²): no simulation has measured
     * the score guardrail over units with the smaller correction the rates use.
     */
    record MeanScore(long n, double sum, double sumSquares, UnitSketch units) implements Statistic {
        @Override
        public double mean() {
            return sum / n;
        }

        /**
         * max(the sample variance over n, at least 1e-12 so that constant scores stay testable; the
         * variance over units).
         */
        @Override
        public double variance() {
            double mean = sum / n;
            double var = n > 1 ? (sumSquares - n * mean * mean) / (n - 1) : 0;
            return atLeast(Math.max(var, 1e-12) / n, overUnits());
        }

        @Override
        public double overUnits() {
            if (units == null) {
                return Double.NaN;
            }
            double v =
                    units.ratioVarianceLeavingOutTheHeaviest(
                            UnitSketch.Quantity.SCORE_SUM, UnitSketch.Quantity.SCORED, sum, n);
            return corrected(v, effectiveUnits());
        }

        @Override
        public double effectiveUnits() {
            return Statistic.effectiveUnits(units, UnitSketch.Quantity.SCORED, n);
        }
    }

    /**
     * The variance over independent observations {@code v}, raised to the one over units where
     * there is one; infinite (not judged) when a single unit carries the arm, so that its scorings
     * are never taken as independent; {@code v} without per-unit counts (NaN).
     */
    private static double atLeast(double v, double overUnits) {
        return Double.isNaN(overUnits) ? v : Math.max(v, overUnits);
    }

    /**
     * The variance {@code v} (the heaviest unit's residual already corrected for its leverage)
     * times n/(n − 1) for n effective units, the small-sample correction of the rest; infinite when
     * one unit carries the arm (n ≤ 1, or {@code v} infinite): its scorings say nothing of other
     * units.
     */
    private static double corrected(double v, double effectiveUnits) {
        return effectiveUnits > 1 && v < Double.POSITIVE_INFINITY
                ? v * effectiveUnits / (effectiveUnits - 1)
                : Double.POSITIVE_INFINITY;
    }

    private static double effectiveUnits(UnitSketch units, UnitSketch.Quantity y, double total) {
        if (units == null) {
            return Double.NaN;
        }
        double squares = Math.max(total, units.sumOfSquares(y));
        return squares > 0 ? total * total / squares : Double.NaN;
    }
}
