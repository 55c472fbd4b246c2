package io.canaryflow.operators.units;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class UnitWindowsTest {
    static final long SLIDE = 1_000;

    @Test
    void shouldMakeEveryWindowsBucketCountsAddUpToItsDistinctUnitsInAnyArrivalOrder() {
        for (int slides : new int[] {1, 2, 3, 4, 7}) {
            for (long seed = 0; seed < 20; seed++) {
                SplittableRandom random = new SplittableRandom(seed * 31 + slides);
                UnitWindows windows = new UnitWindows(SLIDE, slides);
                Map<Long, long[]> counts = new HashMap<>(); // per bucket end
                Map<Long, Set<Long>> unitsPerBucket = new HashMap<>();
                for (int e = 0; e < 3_000; e++) {
                    long bucket = random.nextLong(12);
                    long unit = UnitSketch.hash("u" + random.nextInt(150));
                    long end = (bucket + 1) * SLIDE;
                    boolean isNew =
                            windows.add(
                                    windows.bucket(end),
                                    unit,
                                    counts.computeIfAbsent(end, b -> new long[slides]));
                    assertThat(isNew)
                            .isEqualTo(
                                    unitsPerBucket
                                            .computeIfAbsent(end, b -> new HashSet<>())
                                            .add(unit));
                }
                for (long windowEnd = SLIDE;
                        windowEnd <= (12 + slides) * SLIDE;
                        windowEnd += SLIDE) {
                    long sum = 0;
                    Set<Long> distinct = new HashSet<>();
                    for (int i = 0; i < slides; i++) {
                        long bucketEnd = windowEnd - (long) (slides - 1 - i) * SLIDE;
                        long[] c = counts.get(bucketEnd);
                        sum += c == null ? 0 : c[slides - 1 - i];
                        distinct.addAll(unitsPerBucket.getOrDefault(bucketEnd, Set.of()));
                    }
                    assertThat(sum)
                            .as("k %d, seed %d, window ending %d", slides, seed, windowEnd)
                            .isEqualTo(distinct.size());
                }
            }
        }
    }

    @Test
    void shouldCountAUnitInTheWindowsOfItsBucketThatDoNotHoldItsNearestOtherBuckets() {
        UnitWindows windows = new UnitWindows(SLIDE, 4);
        long[] third = new long[4];
        long[] first = new long[4];
        long[] fifth = new long[4];
        windows.add(windows.bucket(3 * SLIDE), 7, third); // windows ending 3, 4, 5, 6 s
        assertThat(third).containsExactly(1, 1, 1, 1);
        windows.add(windows.bucket(SLIDE), 7, first); // 1, 2 s new; 3, 4 s hold bucket 3
        assertThat(first).containsExactly(1, 1, 0, 0);
        windows.add(windows.bucket(5 * SLIDE), 7, fifth); // 7, 8 s new
        assertThat(fifth).containsExactly(0, 0, 1, 1);
        assertThat(windows.add(windows.bucket(5 * SLIDE), 7, fifth)).isFalse();
        assertThat(fifth).containsExactly(0, 0, 1, 1);
    }

    @Test
    void shouldKeepABucketOnlyWhileAWindowStillOpenHoldsIt() {
        UnitWindows windows = new UnitWindows(SLIDE, 3);
        List<UnitSet> held = new ArrayList<>();
        for (long end = SLIDE; end <= 5 * SLIDE; end += SLIDE) {
            held.add(windows.bucket(end));
        }
        // the window ending at 3 s, the last holding the bucket ending at 1 s, is still open
        assertThat(windows.dropThrough(2 * SLIDE)).isFalse();
        assertThat(windows.buckets()).isEqualTo(5);
        // once it closes, only buckets of windows ending after 3 s stay
        windows.dropThrough(3 * SLIDE - 1);
        assertThat(windows.buckets()).isEqualTo(4);
        windows.dropThrough(5 * SLIDE - 1);
        assertThat(windows.buckets()).isEqualTo(2);
        assertThat(windows.dropThrough(Long.MAX_VALUE)).isTrue();
        assertThat(new UnitWindows(SLIDE, 1).dropThrough(Long.MIN_VALUE)).isTrue();
        assertThat(windows.bucket(4 * SLIDE)).isNotSameAs(held.get(3));
    }
}
