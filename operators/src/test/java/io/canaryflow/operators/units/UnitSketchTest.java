package io.canaryflow.operators.units;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.operators.units.UnitSketch.Quantity;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The sketch's estimates against the exact per-unit sums, computed unit by unit. */
class UnitSketchTest {

    /** Per-unit totals of heavy-tailed activity (Pareto, shape 1.5) and per-unit error rates. */
    record Units(String[] ids, double[] attempts, double[] errors) {
        static Units draw(SplittableRandom random, int n, String prefix) {
            String[] ids = new String[n];
            double[] y = new double[n];
            double[] x = new double[n];
            for (int u = 0; u < n; u++) {
                ids[u] = prefix + u;
                y[u] = Math.floor(Math.pow(1 - random.nextDouble(), -1 / 1.5)); // >= 1
                double rate = 0.02 * -Math.log(1 - random.nextDouble()); // mean 2 %
                for (int i = 0; i < y[u]; i++) {
                    x[u] += random.nextDouble() < Math.min(rate, 1) ? 1 : 0;
                }
            }
            return new Units(ids, y, x);
        }

        double exact(double r) {
            double s = 0;
            for (int u = 0; u < ids.length; u++) {
                double d = errors[u] - r * attempts[u];
                s += d * d;
            }
            return s;
        }

        double rate() {
            double x = 0, y = 0;
            for (int u = 0; u < ids.length; u++) {
                x += errors[u];
                y += attempts[u];
            }
            return x / y;
        }

        /** Each unit's attempts added one event at a time, as the monitor does. */
        UnitSketch sketch() {
            UnitSketch s = new UnitSketch();
            for (int u = 0; u < ids.length; u++) {
                long h = UnitSketch.hash(ids[u]);
                for (int i = 0; i < attempts[u]; i++) {
                    s.add(h, 1, i < errors[u] ? 1 : 0, 0, 0, 0);
                }
            }
            return s;
        }
    }

    @Test
    void shouldEstimateTheSumOfSquaredResidualsPerUnitWithoutBiasAndWithinItsStatedError() {
        SplittableRandom random = new SplittableRandom(11);
        int sets = 60;
        double sumRelative = 0;
        double sumSquaredRelative = 0;
        for (int set = 0; set < sets; set++) {
            Units units = Units.draw(random, 3_000, "set" + set + "-user-");
            double r = units.rate();
            double estimate = units.sketch().sumOfSquares(Quantity.ERRORS, Quantity.ATTEMPTS, r);
            double relative = estimate / units.exact(r) - 1;
            sumRelative += relative;
            sumSquaredRelative += relative * relative;
        }
        double bound = Math.sqrt(2.0 / (UnitSketch.ROWS * UnitSketch.BUCKETS)); // 4.4 %
        double mean = sumRelative / sets;
        double rms = Math.sqrt(sumSquaredRelative / sets);
        // unbiased: the mean relative error is within 3 standard errors of 0
        assertThat(Math.abs(mean)).isLessThan(3 * bound / Math.sqrt(sets));
        assertThat(rms).isLessThan(bound * 1.2);
    }

    @Test
    void shouldCountAHeavyUnitAlmostExactly() {
        UnitSketch s = new UnitSketch();
        double exact = 0;
        for (int u = 0; u < 500; u++) {
            s.add(UnitSketch.hash("light-" + u), 1, 0, 0, 0, 0);
            exact += 1;
        }
        s.add(UnitSketch.hash("whale"), 100_000, 0, 0, 0, 0);
        exact += 1e10;
        assertThat(s.sumOfSquares(Quantity.ATTEMPTS))
                .isCloseTo(exact, org.assertj.core.data.Percentage.withPercentage(0.1));
    }

    @Test
    void shouldBeTheSameWhereverAUnitsEventsWereCounted() {
        SplittableRandom random = new SplittableRandom(5);
        Units units = Units.draw(random, 500, "u");
        UnitSketch whole = units.sketch();
        // the same events split over two "tasks" at random, each unit's events on both
        UnitSketch a = new UnitSketch();
        UnitSketch b = new UnitSketch();
        for (int u = 0; u < 500; u++) {
            long h = UnitSketch.hash(units.ids()[u]);
            for (int i = 0; i < units.attempts()[u]; i++) {
                (random.nextBoolean() ? a : b).add(h, 1, i < units.errors()[u] ? 1 : 0, 0, 0, 0);
            }
        }
        assertThat(a.plus(b).counters())
                .containsExactly(whole.counters(), org.assertj.core.data.Offset.offset(1e-9));
        assertThat(UnitSketch.sum(null, whole)).isSameAs(whole);
    }

    @Test
    void shouldGiveTheBinomialVarianceWhenEveryUnitHasOneEvent() {
        // one event per unit: the cluster-robust variance of a rate is p(1 - p)/n
        UnitSketch s = new UnitSketch();
        int n = 20_000;
        int errors = 0;
        SplittableRandom random = new SplittableRandom(3);
        for (int u = 0; u < n; u++) {
            int e = random.nextDouble() < 0.1 ? 1 : 0;
            errors += e;
            s.add(UnitSketch.hash("one-" + u), 1, e, 0, 0, 0);
        }
        double p = (double) errors / n;
        double v = s.ratioVariance(Quantity.ERRORS, Quantity.ATTEMPTS, errors, n);
        assertThat(v / (p * (1 - p) / n)).isBetween(0.85, 1.15);
    }

    @Test
    void shouldTakeTheHeaviestUnitsResidualLeaveOneOutAsTheJackknifeDoesOrByItsLeverage() {
        // one unit with 70 % of the attempts at 5 % errors, 300 light units at rates of their own
        java.util.SplittableRandom random = new java.util.SplittableRandom(8);
        UnitSketch sketch = new UnitSketch();
        int units = 301;
        double[] x = new double[units];
        double[] y = new double[units];
        for (int u = 0; u < units; u++) {
            y[u] = u == 0 ? 7_000 : 10;
            x[u] = u == 0 ? 350 : Math.floor(10 * 0.04 * random.nextDouble() * 2 + 0.5);
            sketch.add(UnitSketch.hash("unit-" + u), y[u], x[u], y[u] - x[u], 0, 1);
        }
        double sumX = java.util.Arrays.stream(x).sum();
        double sumY = java.util.Arrays.stream(y).sum();
        double r = sumX / sumY;
        // exact, unit by unit: every residual squared, the heaviest divided by (1 - its share)^2
        double plain = 0;
        double jackknifed = 0;
        for (int u = 0; u < units; u++) {
            double e = x[u] - r * y[u];
            plain += e * e;
            double w = y[u] / sumY;
            jackknifed += u == 0 ? e * e / ((1 - w) * (1 - w)) : e * e;
        }
        plain /= sumY * sumY;
        jackknifed /= sumY * sumY;
        double estimate =
                sketch.ratioVarianceLeavingOutTheHeaviest(
                        UnitSketch.Quantity.ERRORS, UnitSketch.Quantity.ATTEMPTS, sumX, sumY);
        assertThat(jackknifed).isGreaterThan(3 * plain); // the correction matters here
        assertThat(estimate)
                .isCloseTo(jackknifed, org.assertj.core.api.Assertions.withinPercentage(15));
        // by its leverage (CR2): the heaviest residual divided by 1 - w once
        double w0 = y[0] / sumY;
        double e0 = x[0] - r * y[0];
        double byLeverage = plain + e0 * e0 * (1 / (1 - w0) - 1) / (sumY * sumY);
        assertThat(byLeverage).isGreaterThan(1.5 * plain).isLessThan(0.7 * jackknifed);
        assertThat(
                        sketch.ratioVarianceByLeverageOfTheHeaviest(
                                UnitSketch.Quantity.ERRORS,
                                UnitSketch.Quantity.ATTEMPTS,
                                sumX,
                                sumY,
                                r))
                .isCloseTo(byLeverage, org.assertj.core.api.Assertions.withinPercentage(15));
        // one unit alone: nothing to say about others
        UnitSketch alone = new UnitSketch();
        alone.add(UnitSketch.hash("tenant"), 5_000, 50, 4_950, 0, 1);
        assertThat(
                        alone.ratioVarianceLeavingOutTheHeaviest(
                                UnitSketch.Quantity.ERRORS,
                                UnitSketch.Quantity.ATTEMPTS,
                                50,
                                5_000))
                .isInfinite();
    }

    @Test
    void shouldTakeEveryResidualAgainstAGivenRatioForTheVarianceAtABoundary() {
        // a few heavy units that happen to flip rarely, many light ones at 2 %: the estimate lies
        // below 2 %, and so does its own variance; against a boundary of 2 % it is larger
        java.util.SplittableRandom random = new java.util.SplittableRandom(11);
        UnitSketch sketch = new UnitSketch();
        int units = 400;
        double[] x = new double[units];
        double[] y = new double[units];
        for (int u = 0; u < units; u++) {
            y[u] = u < 4 ? 5_000 : 20;
            x[u] = u < 4 ? 4 : (random.nextDouble() < 0.4 ? 1 : 0);
            sketch.add(UnitSketch.hash("pair-unit-" + u), y[u], x[u], y[u] - x[u], 0, 1);
        }
        double sumX = java.util.Arrays.stream(x).sum();
        double sumY = java.util.Arrays.stream(y).sum();
        double boundary = 0.02;
        double[] exact = new double[2];
        double heaviest = 0;
        int heavy = 0;
        for (int u = 0; u < units; u++) {
            if (y[u] > heaviest) {
                heaviest = y[u];
                heavy = u;
            }
        }
        double w = heaviest / sumY;
        double[] ratios = {sumX / sumY, boundary};
        for (int i = 0; i < 2; i++) {
            for (int u = 0; u < units; u++) {
                double e = x[u] - ratios[i] * y[u];
                exact[i] += u == heavy ? e * e / ((1 - w) * (1 - w)) : e * e;
            }
            exact[i] /= sumY * sumY;
        }
        double atEstimate =
                sketch.ratioVarianceLeavingOutTheHeaviest(
                        Quantity.ERRORS, Quantity.ATTEMPTS, sumX, sumY);
        double atBoundary =
                sketch.ratioVarianceLeavingOutTheHeaviest(
                        Quantity.ERRORS, Quantity.ATTEMPTS, sumX, sumY, boundary);
        assertThat(sumX / sumY).isLessThan(0.5 * boundary);
        assertThat(exact[1]).isGreaterThan(2 * exact[0]); // the boundary matters here
        assertThat(atEstimate)
                .isEqualTo(
                        sketch.ratioVarianceLeavingOutTheHeaviest(
                                Quantity.ERRORS, Quantity.ATTEMPTS, sumX, sumY, sumX / sumY));
        assertThat(atEstimate)
                .isCloseTo(exact[0], org.assertj.core.api.Assertions.withinPercentage(20));
        assertThat(atBoundary)
                .isCloseTo(exact[1], org.assertj.core.api.Assertions.withinPercentage(20));
    }
}
