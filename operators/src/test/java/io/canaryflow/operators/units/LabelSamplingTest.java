package io.canaryflow.operators.units;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.canaryflow.operators.routing.Buckets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@code labels.sample-rate}: which units' predictions wait for labels. Checked against exact
 * binomial bounds, and the sampled label error rate against the whole population's over many salts
 * (a second computation of the same quantity: every unit's labels counted).
 */
class LabelSamplingTest {

    @Test
    void shouldSampleTheShareOfUnitsItIsGivenTheSameInEveryArm() {
        LabelSampling sampling = LabelSampling.of(0.1, "labels");
        Buckets buckets = new Buckets();
        int units = 200_000;
        int[] sampled = new int[2];
        int[] total = new int[2];
        for (int i = 0; i < units; i++) {
            String unit = "user-" + i;
            // the routing's own hash: control below bucket 5,000, candidate above
            int arm = buckets.bucket("fraud-salt", unit) < Buckets.COUNT / 2 ? 0 : 1;
            total[arm]++;
            if (sampling.sampled(UnitSketch.hash(unit))) {
                sampled[arm]++;
            }
            assertThat(sampling.sampled(UnitSketch.hash(unit)))
                    .isEqualTo(LabelSampling.of(0.1, "labels").sampled(UnitSketch.hash(unit)));
        }
        for (int arm = 0; arm < 2; arm++) {
            double share = (double) sampled[arm] / total[arm];
            double se = Math.sqrt(0.1 * 0.9 / total[arm]);
            assertThat(Math.abs(share - 0.1)).as("arm %d: %s", arm, share).isLessThan(4 * se);
        }
        // another salt samples other units: the overlap is that of independent draws (1 %)
        LabelSampling other = LabelSampling.of(0.1, "other");
        int both = 0;
        for (int i = 0; i < units; i++) {
            long h = UnitSketch.hash("user-" + i);
            if (sampling.sampled(h) && other.sampled(h)) {
                both++;
            }
        }
        assertThat(Math.abs(both / (double) units - 0.01))
                .isLessThan(4 * Math.sqrt(0.01 * 0.99 / units));
        assertThat(LabelSampling.ALL.sampled(42)).isTrue();
        assertThatThrownBy(() -> LabelSampling.of(0, "labels"))
                .hasMessageContaining("labels.sample-rate");
        assertThatThrownBy(() -> LabelSampling.of(1.5, "labels"))
                .hasMessageContaining("labels.sample-rate");
    }

    /**
     * Units that differ by orders of magnitude in activity (Pareto 1.2) and in their own error
     * rates (gamma 0.5): over 400 salts, the sampled units' label error rate (wrong ÷ labelled, as
     * the label join counts it) averages the whole population's, and its spread matches the
     * variance over units that the guardrail's unit-level test uses.
     */
    @Test
    void shouldEstimateTheWholePopulationsLabelErrorRateWithoutBias() {
        SplittableRandom random = new SplittableRandom(7);
        int units = 20_000;
        long[] hashes = new long[units];
        long[] labelled = new long[units];
        long[] wrong = new long[units];
        long allLabelled = 0;
        long allWrong = 0;
        for (int u = 0; u < units; u++) {
            hashes[u] = UnitSketch.hash("user-" + random.nextLong());
            double activity = 3 / Math.pow(1 - random.nextDouble(), 1 / 1.2);
            labelled[u] = Math.max(1, Math.round(activity));
            double rate = Math.min(1, 0.1 * gamma(random, 0.5) / 0.5);
            for (long i = 0; i < labelled[u]; i++) {
                if (random.nextDouble() < rate) {
                    wrong[u]++;
                }
            }
            allLabelled += labelled[u];
            allWrong += wrong[u];
        }
        double truth = (double) allWrong / allLabelled;
        int salts = 400;
        double sum = 0;
        double sumSq = 0;
        double predictedVariance = 0;
        for (int s = 0; s < salts; s++) {
            LabelSampling sampling = LabelSampling.of(0.1, "salt-" + s);
            long l = 0;
            long k = 0;
            for (int u = 0; u < units; u++) {
                if (sampling.sampled(hashes[u])) {
                    l += labelled[u];
                    k += wrong[u];
                }
            }
            double estimate = (double) k / l;
            sum += estimate;
            sumSq += estimate * estimate;
            // the delta-method variance over sampled units, with the finite population correction
            double v = 0;
            for (int u = 0; u < units; u++) {
                if (sampling.sampled(hashes[u])) {
                    double r = wrong[u] - estimate * labelled[u];
                    v += r * r;
                }
            }
            predictedVariance += v / ((double) l * l) * 0.9;
        }
        double mean = sum / salts;
        double sd = Math.sqrt(sumSq / salts - mean * mean);
        assertThat(Math.abs(mean - truth))
                .as("mean %s against %s (sd %s)", mean, truth, sd)
                .isLessThan(3 * sd / Math.sqrt(salts));
        double predictedSd = Math.sqrt(predictedVariance / salts);
        assertThat(predictedSd / sd).as("unit-level sd against the spread").isBetween(0.75, 1.33);
    }

    private static double gamma(SplittableRandom random, double shape) {
        if (shape < 1) {
            return gamma(random, shape + 1) * Math.pow(random.nextDouble(), 1 / shape);
        }
        double d = shape - 1.0 / 3;
        double c = 1 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = normal(random);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = random.nextDouble();
            if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) {
                return d * v;
            }
        }
    }

    private static double normal(SplittableRandom random) {
        double u = 1 - random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
    }
}
