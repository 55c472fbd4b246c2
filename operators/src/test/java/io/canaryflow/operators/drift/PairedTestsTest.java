package io.canaryflow.operators.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.apache.commons.math3.distribution.ChiSquaredDistribution;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.junit.jupiter.api.Test;

class PairedTestsTest {
    @Test
    void shouldComputeMcNemarsTestAsByHand() {
        // (|30 - 12| - 1)^2 / 42
        PairedTests.Result r = PairedTests.mcNemar(30, 12);
        assertThat(r.statistic()).isCloseTo(289.0 / 42, within(1e-12));
        assertThat(r.pValue())
                .isCloseTo(
                        1 - new ChiSquaredDistribution(1).cumulativeProbability(289.0 / 42),
                        within(1e-12));
        assertThat(PairedTests.mcNemar(0, 0).pValue()).isNaN();
    }

    @Test
    void shouldRankTiesByTheirMeanAndCorrectTheVarianceAsByHand() {
        // |d| sorted: 1(+) | 2(-) 2(+) -> 2.5 | 3 3 3 (+) -> 5 | 4(-) -> 7 | 5(+) -> 8; a zero
        // difference is dropped
        double[] d = {3, -2, 1, 3, 0, 5, 2, -4, 3};
        PairedTests.Result r = PairedTests.wilcoxon(d);
        assertThat(r.n()).isEqualTo(8);
        assertThat(r.statistic()).isEqualTo(1 + 2.5 + 3 * 5 + 8);
        // mean 8*9/4 = 18; variance 8*9*17/24 - ((8-2) + (27-3))/48 = 51 - 0.625
        double z = (26.5 - 18) / Math.sqrt(51 - 0.625);
        assertThat(r.pValue())
                .isCloseTo(
                        2 * (1 - new NormalDistribution().cumulativeProbability(z)), within(1e-9));
    }
}
