package io.canaryflow.operators.routing;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BucketsTest {
    /**
     * Vectors computed independently with Python: {@code int.from_bytes(hashlib.sha256((salt + "."
     * + unit).encode()).digest()[:8], "big") % 10000}.
     */
    @Test
    void shouldMatchIndependentlyComputedBuckets() {
        Buckets buckets = new Buckets();
        assertThat(buckets.bucket("s1", "user-42")).isEqualTo(1062);
        assertThat(buckets.bucket("fraud-2026", "user-1")).isEqualTo(2173);
        assertThat(buckets.bucket("", "x")).isEqualTo(7660);
        assertThat(buckets.bucket("salt", "ünïcödé")).isEqualTo(613);
    }

    @Test
    void shouldGiveSameBucketOnRepeatAndDifferentBucketsUnderAnotherSalt() {
        Buckets buckets = new Buckets();
        int moved = 0;
        for (int i = 0; i < 1000; i++) {
            String unit = "user-" + i;
            assertThat(buckets.bucket("a", unit)).isEqualTo(buckets.bucket("a", unit));
            if (buckets.bucket("a", unit) != buckets.bucket("b", unit)) {
                moved++;
            }
        }
        assertThat(moved).isGreaterThan(990);
    }
}
