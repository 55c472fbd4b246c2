package io.canaryflow.operators.drift;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.modelloader.ReferenceBins;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Drift levels without drift: windows drawn from the reference's own distribution, at the default
 * min-count of 100 and 10 reference bins, must not WARN or ALERT in more than 5 % of windows, for a
 * window against the manifest's reference and for a candidate against its control cohort.
 */
class DriftLevelCalibrationTest {
    static final int WINDOWS = 2_000;
    static final DriftMeasures.Thresholds DEFAULTS =
            new DriftMeasures.Thresholds(0.1, 0.25, 100, 1e-4);

    static long[] window(SplittableRandom random, ReferenceBins bins, int n) {
        long[] counts = new long[bins.bins()];
        for (int i = 0; i < n; i++) {
            counts[bins.binOf(random.nextGaussian())]++;
        }
        return counts;
    }

    @Test
    void shouldRaiseALevelInAtMostFivePercentOfWindowsWithoutDrift() {
        SplittableRandom random = new SplittableRandom(17);
        double[] sample = new double[10_000];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = random.nextGaussian();
        }
        ReferenceBins bins = ReferenceBins.fromSample(sample, 10);
        int versusReference = 0;
        int versusControl = 0;
        int psiAloneVersusReference = 0;
        int psiAloneVersusControl = 0;
        for (int w = 0; w < WINDOWS; w++) {
            DriftMeasures.Result r =
                    DriftMeasures.compare(bins, window(random, bins, 100), 0, DEFAULTS);
            DriftMeasures.Result b =
                    DriftMeasures.between(
                            window(random, bins, 100),
                            0,
                            window(random, bins, 100),
                            false,
                            DEFAULTS);
            versusReference += r.level() == DriftMeasures.Level.OK ? 0 : 1;
            versusControl += b.level() == DriftMeasures.Level.OK ? 0 : 1;
            psiAloneVersusReference += r.psi() >= DEFAULTS.warn() ? 1 : 0;
            psiAloneVersusControl += b.psi() >= DEFAULTS.warn() ? 1 : 0;
        }
        assertThat((double) versusReference / WINDOWS).isLessThanOrEqualTo(0.05);
        assertThat((double) versusControl / WINDOWS).isLessThanOrEqualTo(0.05);
        // PSI alone at these sizes is mostly noise: the levels it would give
        assertThat((double) psiAloneVersusReference / WINDOWS).isGreaterThan(0.2);
        assertThat((double) psiAloneVersusControl / WINDOWS).isGreaterThan(0.5);
    }

    @Test
    void shouldStillAlertOnARealShift() {
        SplittableRandom random = new SplittableRandom(19);
        double[] sample = new double[10_000];
        for (int i = 0; i < sample.length; i++) {
            sample[i] = random.nextGaussian();
        }
        ReferenceBins bins = ReferenceBins.fromSample(sample, 10);
        int alerts = 0;
        for (int w = 0; w < 200; w++) {
            long[] counts = new long[bins.bins()];
            for (int i = 0; i < 500; i++) {
                counts[bins.binOf(random.nextGaussian() + 0.8)]++; // shifted by 0.8 sd
            }
            alerts +=
                    DriftMeasures.compare(bins, counts, 0, DEFAULTS).level()
                                    == DriftMeasures.Level.ALERT
                            ? 1
                            : 0;
        }
        assertThat(alerts).isGreaterThanOrEqualTo(190);
    }
}
