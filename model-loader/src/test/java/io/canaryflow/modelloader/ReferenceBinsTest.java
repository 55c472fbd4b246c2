package io.canaryflow.modelloader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ReferenceBinsTest {
    @Test
    void shouldPlaceValuesIntoOpenEdgeBins() {
        ReferenceBins bins =
                new ReferenceBins(new double[] {1, 2, 3}, new double[] {.25, .25, .25, .25}, 4);
        assertThat(bins.binOf(-1e300)).isZero();
        assertThat(bins.binOf(0.999)).isZero();
        assertThat(bins.binOf(1)).isEqualTo(1);
        assertThat(bins.binOf(2.5)).isEqualTo(2);
        assertThat(bins.binOf(3)).isEqualTo(3);
        assertThat(bins.binOf(Double.POSITIVE_INFINITY)).isEqualTo(3);
        assertThat(bins.binOf(Double.NaN)).isEqualTo(-1);
    }

    @Test
    void shouldCutAtQuantilesOfTheSample() {
        double[] sample = new double[100];
        for (int i = 0; i < 100; i++) {
            sample[i] = i; // 0..99
        }
        ReferenceBins bins = ReferenceBins.fromSample(sample, 4);
        assertThat(bins.edges()).containsExactly(25, 50, 75);
        assertThat(bins.fractions()).containsExactly(.25, .25, .25, .25);
        assertThat(bins.n()).isEqualTo(100);
    }

    @Test
    void shouldCollapseTiedQuantilesAndIgnoreNaN() {
        double[] sample = {0, 0, 0, 0, 0, 0, 1, 1, Double.NaN, 1, 1};
        ReferenceBins bins = ReferenceBins.fromSample(sample, 10);
        assertThat(bins.edges()).containsExactly(1);
        assertThat(bins.fractions()).containsExactly(0.6, 0.4);
        assertThat(bins.n()).isEqualTo(10);
    }

    @Test
    void shouldGiveOneBinForAnEmptySample() {
        ReferenceBins bins = ReferenceBins.fromSample(new double[0], 10);
        assertThat(bins.bins()).isEqualTo(1);
        assertThat(bins.n()).isZero();
    }

    @Test
    void shouldRejectEdgesThatDoNotIncrease() {
        assertThatThrownBy(
                        () -> new ReferenceBins(new double[] {1, 1}, new double[] {.3, .3, .4}, 3))
                .hasMessageContaining("strictly increasing");
        assertThatThrownBy(() -> new ReferenceBins(new double[] {1}, new double[] {1}, 3))
                .hasMessageContaining("1 edges need 2 fractions");
    }

    @Test
    void shouldMakeFewDistinctIntegersCategoricalWithAnOtherBin() throws Exception {
        double[] sample = {0, 0, 0, 1, 1, 3, 3, 3, 3, 3};
        ReferenceBins bins = ReferenceBins.fromSample(sample, 10, 5);
        assertThat(bins.categories()).containsExactly(0.0, 1.0, 3.0);
        assertThat(bins.fractions()).containsExactly(0.3, 0.2, 0.5, 0.0);
        assertThat(bins.binOf(3)).isEqualTo(2);
        assertThat(bins.binOf(2)).isEqualTo(3); // unseen: the other bin
        // Too many distinct values, or non-integers: quantile bins.
        assertThat(ReferenceBins.fromSample(sample, 10, 2).categorical()).isFalse();
        assertThat(ReferenceBins.fromSample(new double[] {0.5, 1.5}, 10, 5).categorical())
                .isFalse();
        // Survives the manifest's JSON.
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertThat(json.readValue(json.writeValueAsString(bins), ReferenceBins.class))
                .isEqualTo(bins);
        assertThat(json.writeValueAsString(ReferenceBins.fromSample(sample, 3)))
                .doesNotContain("categories");
    }
}
