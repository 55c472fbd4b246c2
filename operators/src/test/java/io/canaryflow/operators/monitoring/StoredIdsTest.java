package io.canaryflow.operators.monitoring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The label join's filter of written ids: never wrong about a stored id, and it forgets. */
class StoredIdsTest {
    @Test
    void shouldKnowEveryIdWrittenUntilItsCleanupIsWritten() {
        StoredIds ids = new StoredIds(1_000, 8);
        for (int i = 0; i < 5_000; i++) {
            ids.add("e-" + i, 100 + i / 1_000 * 100); // generations of 1,000, cleaned at 100..500
        }
        for (int i = 0; i < 5_000; i++) {
            assertThat(ids.mayContain("e-" + i)).as("e-" + i).isTrue();
        }
        // the join passed 250: the generations cleaned at 100 and 200 go, once written
        ids.advanced(250);
        for (int i = 0; i < 5_000; i++) {
            assertThat(ids.mayContain("e-" + i)).isTrue(); // not written yet
        }
        ids.written();
        for (int i = 2_000; i < 5_000; i++) {
            assertThat(ids.mayContain("e-" + i)).as("e-" + i).isTrue();
        }
        assertThat(falsePositives(ids, "e-", 0, 2_000)).isLessThan(0.05);
        assertThat(falsePositives(ids, "x-", 0, 100_000)).isLessThan(0.05);
    }

    @Test
    void shouldNeverForgetTheGenerationBeingFilled() {
        StoredIds ids = new StoredIds(1_000, 8);
        ids.add("a", 100);
        ids.advanced(1_000);
        ids.written();
        assertThat(ids.mayContain("a")).isTrue();
    }

    @Test
    void shouldTreatEveryIdAsStoredWhileIdsItNeverSawMayBe() {
        StoredIds ids = new StoredIds(1_000, 8);
        ids.unknownUntil(500); // restored
        assertThat(ids.mayContain("never")).isTrue();
        ids.advanced(499);
        ids.written();
        assertThat(ids.mayContain("never")).isTrue();
        ids.advanced(500);
        assertThat(ids.mayContain("never")).isTrue(); // removed, but not yet deleted
        ids.written();
        assertThat(ids.mayContain("never")).isFalse();
    }

    @Test
    void shouldLookEverythingUpWhenMoreIdsLiveThanItHolds() {
        StoredIds ids = new StoredIds(100, 2);
        for (int i = 0; i < 400; i++) {
            ids.add("e-" + i, 1_000 + i);
        }
        // 3 sealed generations > 2: every id may be stored until the last of them is cleaned
        assertThat(falsePositives(ids, "x-", 0, 1_000)).isEqualTo(1.0);
        ids.advanced(1_298);
        ids.written();
        assertThat(falsePositives(ids, "x-", 0, 1_000)).isEqualTo(1.0);
        ids.advanced(1_299);
        ids.written();
        assertThat(falsePositives(ids, "x-", 0, 1_000)).isLessThan(0.05);
        for (int i = 300; i < 400; i++) {
            assertThat(ids.mayContain("e-" + i)).isTrue(); // the generation being filled
        }
    }

    private static double falsePositives(StoredIds ids, String prefix, int from, int to) {
        int yes = 0;
        for (int i = from; i < to; i++) {
            if (ids.mayContain(prefix + i)) {
                yes++;
            }
        }
        return yes / (double) (to - from);
    }
}
