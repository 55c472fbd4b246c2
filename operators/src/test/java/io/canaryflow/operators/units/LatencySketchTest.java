package io.canaryflow.operators.units;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.operators.latency.LatencyHistogram;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The latency sketch's bins, its linearity, and its design effect against the exact one. */
class LatencySketchTest {

    @Test
    void shouldPutEveryLatencyInTheBinItsBoundsSay() {
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < 100_000; i++) {
            long v = (long) Math.exp(random.nextDouble() * Math.log(1L << 37));
            int bin = LatencySketch.bin(v);
            assertThat(LatencySketch.lowerBound(bin)).isLessThanOrEqualTo(v);
            if (bin < LatencySketch.BINS - 1) {
                assertThat(v).isLessThan(LatencySketch.lowerBound(bin + 1));
            }
        }
        // a bin is a quarter of its octave wide: 14-25 % of its lower bound
        for (int b = 1; b < LatencySketch.BINS - 1; b++) {
            double width =
                    LatencySketch.lowerBound(b + 1) / (double) LatencySketch.lowerBound(b) - 1;
            assertThat(width).isBetween(0.14, 0.25);
        }
        // 1,000 µs lies in the bin [896, 1024), 40,000 µs in [32768, 40960)
        assertThat(LatencySketch.lowerBound(LatencySketch.floorBound(1_000))).isEqualTo(896);
        assertThat(LatencySketch.lowerBound(LatencySketch.floorBound(40_000))).isEqualTo(32_768);
        assertThat(LatencySketch.lowerBound(LatencySketch.floorBound(40_960))).isEqualTo(40_960);
        assertThat(LatencySketch.floorBound(3)).isEqualTo(1);
    }

    @Test
    void shouldCountAtABinBoundWhatTheFineHistogramCountsThere() {
        SplittableRandom random = new SplittableRandom(2);
        LatencyHistogram h = new LatencyHistogram();
        long[] values = new long[20_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.round(5_000 * Math.exp(random.nextGaussian()));
            h.add(values[i]);
        }
        for (int b = 1; b < 90; b++) {
            long bound = LatencySketch.lowerBound(b);
            long exact = 0;
            for (long v : values) {
                exact += v >= bound ? 1 : 0;
            }
            assertThat(h.countAbove(bound - 0.5)).as("bound %d", bound).isEqualTo(exact);
        }
    }

    @Test
    void shouldBeLinearWhereverAndInWhateverOrderLatenciesWereCounted() {
        SplittableRandom random = new SplittableRandom(3);
        LatencySketch.Builder all = new LatencySketch.Builder();
        LatencySketch.Builder[] tasks = new LatencySketch.Builder[3];
        for (int t = 0; t < tasks.length; t++) {
            tasks[t] = new LatencySketch.Builder();
        }
        for (int i = 0; i < 30_000; i++) {
            long unit = UnitSketch.hash("u" + random.nextInt(2_000));
            long micros = Math.round(2_000 * Math.exp(random.nextGaussian()));
            all.add(unit, micros);
            tasks[random.nextInt(tasks.length)].add(unit, micros);
        }
        LatencySketch sum =
                tasks[2].build()
                        .plus(LatencySketch.empty())
                        .plus(tasks[0].build())
                        .plus(tasks[1].build());
        assertThat(sum).isEqualTo(all.build());
        assertThat(LatencySketch.sum(null, sum)).isSameAs(sum);
    }

    /** Units with a speed of their own (log-normal, log-sd {@code spread}) and Pareto activity. */
    record Units(String[] ids, long[][] latencies) {
        static Units draw(SplittableRandom random, int n, double spread, String prefix) {
            String[] ids = new String[n];
            long[][] latencies = new long[n][];
            for (int u = 0; u < n; u++) {
                ids[u] = prefix + u;
                int k =
                        (int)
                                Math.min(
                                        5_000,
                                        Math.floor(Math.pow(1 - random.nextDouble(), -1 / 1.3)));
                double speed = Math.exp(spread * random.nextGaussian());
                latencies[u] = new long[k];
                for (int i = 0; i < k; i++) {
                    latencies[u][i] =
                            Math.round(5_000 * speed * Math.exp(0.5 * random.nextGaussian()));
                }
            }
            return new Units(ids, latencies);
        }

        /** The exact design effect of the share at or above {@code bound}, unit by unit. */
        double exactDesignEffect(long bound) {
            long slow = 0;
            long n = 0;
            for (long[] l : latencies) {
                for (long v : l) {
                    slow += v >= bound ? 1 : 0;
                }
                n += l.length;
            }
            double p = (double) slow / n;
            double squares = 0;
            for (long[] l : latencies) {
                long t = 0;
                for (long v : l) {
                    t += v >= bound ? 1 : 0;
                }
                double r = t - p * l.length;
                squares += r * r;
            }
            return squares / (p * (1 - p) * n);
        }

        UnitTail tail(int bin) {
            LatencySketch.Builder b = new LatencySketch.Builder();
            LatencyHistogram h = new LatencyHistogram();
            for (int u = 0; u < ids.length; u++) {
                long hash = UnitSketch.hash(ids[u]);
                for (long v : latencies[u]) {
                    b.add(hash, v);
                    h.add(v);
                }
            }
            long slow = h.countAbove(LatencySketch.lowerBound(bin) - 0.5);
            return UnitTail.of(b.build(), bin, slow, bin, slow, h.count());
        }
    }

    @Test
    void shouldEstimateTheDesignEffectOfTheSlowShareWithoutBias() {
        SplittableRandom random = new SplittableRandom(4);
        Units units = Units.draw(random, 3_000, 1.0, "u");
        int bin = LatencySketch.floorBound(60_000); // about the population's p99
        double exact = units.exactDesignEffect(LatencySketch.lowerBound(bin));
        assertThat(exact).as("units differing in speed cluster the tail").isGreaterThan(5);
        // the same units under other ids: other buckets and signs, the same exact design effect
        double sum = 0;
        int salts = 60;
        for (int s = 0; s < salts; s++) {
            Units renamed = new Units(prefixed(units.ids(), "s" + s + "-"), units.latencies());
            double estimate = renamed.tail(bin).designEffect();
            assertThat(estimate).isBetween(exact / 3, exact * 3);
            sum += estimate;
        }
        // the n'/(n' − 1) factor makes it a little larger; the mean within 10 % of the exact one
        assertThat(sum / salts)
                .isCloseTo(exact, org.assertj.core.data.Percentage.withPercentage(10));
    }

    @Test
    void shouldFindNoDesignEffectWhenUnitsDoNotDifferInSpeed() {
        Units units = Units.draw(new SplittableRandom(5), 3_000, 0, "u");
        int bin = LatencySketch.floorBound(5_000 * Math.exp(0.5 * 2.33));
        assertThat(units.exactDesignEffect(LatencySketch.lowerBound(bin))).isBetween(0.8, 1.2);
        assertThat(units.tail(bin).designEffect()).isBetween(1.0, 1.5);
    }

    @Test
    void shouldAddUpWindowsPerUnit() {
        SplittableRandom random = new SplittableRandom(6);
        Units units = Units.draw(random, 2_000, 1.0, "u");
        int bin = LatencySketch.floorBound(60_000);
        // the same units in two windows: their tails add up unit by unit, not as two samples
        UnitTail one = units.tail(bin);
        UnitTail two = one.plus(one);
        assertThat(two.slowCount()).isEqualTo(2 * one.slowCount());
        assertThat(two.designEffect())
                .isCloseTo(
                        2 * one.designEffect(), org.assertj.core.data.Percentage.withPercentage(1));
        assertThat(UnitTail.sum(null, one)).isSameAs(one);
    }

    @Test
    void shouldHaveNoDesignEffectWithoutSlowScorings() {
        UnitTail none = UnitTail.of(LatencySketch.empty(), 10, 0, 10, 0, 0);
        assertThat(none.designEffect()).isEqualTo(1);
        LatencySketch.Builder b = new LatencySketch.Builder();
        b.add(UnitSketch.hash("one"), 100);
        b.add(UnitSketch.hash("one"), 200_000);
        // one unit: no second unit to vary against
        int bin = LatencySketch.bin(200_000);
        assertThat(UnitTail.of(b.build(), bin, 1, bin, 1, 2).designEffect()).isInfinite();
    }

    private static String[] prefixed(String[] ids, String prefix) {
        String[] out = new String[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = prefix + ids[i];
        }
        return out;
    }
}
