package io.canaryflow.operators.units;

import java.util.ArrayList;
import java.util.List;

/**
 * The units seen in the open buckets of one series, for counting each unit once in every window it
 * is active in when windows slide. A window of {@code k} slides is made of {@code k} buckets of one
 * slide, which are counted apart and added up downstream; a unit active in several buckets of a
 * window must still count once there. So each bucket's count is split by window: {@link #add}
 * counts a unit in bucket b for the window ending {@code j} slides after b's end (j = 0 … k−1) when
 * none of that window's other buckets has seen it yet. Added up over a window's buckets — bucket
 * b_i, ending {@code k−1−i} slides before the window does, giving its count at {@code j = k−1−i} —
 * every unit of the window counts exactly once, in whatever order its events came.
 *
 * <p>Only the nearest buckets holding the unit matter: with p the nearest earlier one within k−1
 * slides and s the nearest later one, the unit is new to exactly the windows ending at b + j with
 * {@code k − (b − p) ≤ j < s − b}, a range. So a unit already seen in its bucket costs one probe,
 * and one seen for the first time in a bucket a probe per bucket searched: up to k − 1 on each
 * side, stopping at the first that holds it. Memory is a set per bucket, kept while a window still
 * open holds the bucket (k − 1 slides longer than the bucket itself stays open). With k = 1
 * (tumbling windows) this is one set per window and nothing more.
 *
 * <p>Not thread-safe; one per series in one task. Flink-free.
 */
public final class UnitWindows {
    private final long slideMillis;
    private final int slides;

    /** The buckets' sets, by ascending bucket end. */
    private final List<UnitSet> buckets = new ArrayList<>();

    /**
     * @param slideMillis the length of a bucket (the windows' slide)
     * @param slides buckets per window, k = window / slide (1: tumbling)
     */
    public UnitWindows(long slideMillis, int slides) {
        if (slideMillis < 1 || slides < 1) {
            throw new IllegalArgumentException(
                    String.format(
                            "need a slide of at least 1 ms and 1 slide per window, got %d ms and %d",
                            slideMillis, slides));
        }
        this.slideMillis = slideMillis;
        this.slides = slides;
    }

    /** Buckets per window, the length of the counts {@link #add} takes. */
    public int slides() {
        return slides;
    }

    /** The set of the bucket ending at {@code bucketEnd} (a multiple of the slide), made if new. */
    public UnitSet bucket(long bucketEnd) {
        int i = buckets.size();
        while (i > 0 && buckets.get(i - 1).windowEnd() > bucketEnd) {
            i--;
        }
        if (i > 0 && buckets.get(i - 1).windowEnd() == bucketEnd) {
            return buckets.get(i - 1);
        }
        UnitSet created = new UnitSet(bucketEnd);
        buckets.add(i, created);
        return created;
    }

    /**
     * Records an attempt of a unit in {@code bucket} (from {@link #bucket}): adds 1 to {@code
     * newToWindow[j]} for each window ending {@code j} slides after the bucket's end that no other
     * bucket has seen the unit in.
     *
     * @param newToWindow {@link #slides()} counts
     * @return whether the unit was new to the bucket
     */
    public boolean add(UnitSet bucket, long unit, long[] newToWindow) {
        if (!bucket.add(unit)) {
            return false;
        }
        int from = 0;
        int to = slides - 1;
        if (slides > 1) {
            int at = buckets.lastIndexOf(bucket);
            if (at < 0) {
                throw new IllegalStateException(
                        "bucket ending at " + bucket.windowEnd() + " is no longer held");
            }
            long end = bucket.windowEnd();
            for (int i = at - 1; i >= 0; i--) {
                UnitSet earlier = buckets.get(i);
                long gap = (end - earlier.windowEnd()) / slideMillis;
                if (gap >= slides) {
                    break;
                }
                if (earlier.contains(unit)) {
                    from = slides - (int) gap; // windows ending within k − 1 slides of it hold it
                    break;
                }
            }
            for (int i = at + 1; i < buckets.size(); i++) {
                UnitSet later = buckets.get(i);
                long gap = (later.windowEnd() - end) / slideMillis;
                if (gap > to) {
                    break;
                }
                if (later.contains(unit)) {
                    to = (int) gap - 1; // windows ending at or after it hold it
                    break;
                }
            }
        }
        for (int j = from; j <= to; j++) {
            newToWindow[j]++;
        }
        return true;
    }

    /**
     * Forgets the buckets that no window still open holds: those whose last window (ending k − 1
     * slides after them) ends at or before {@code watermark} + 1.
     *
     * @return whether no bucket is left
     */
    public boolean dropThrough(long watermark) {
        long reach = (slides - 1) * slideMillis;
        if (watermark == Long.MAX_VALUE) {
            buckets.clear();
        } else if (watermark >= Long.MIN_VALUE + reach) {
            long last = watermark - reach;
            int n = 0;
            while (n < buckets.size() && buckets.get(n).windowEnd() - 1 <= last) {
                n++;
            }
            buckets.subList(0, n).clear();
        }
        return buckets.isEmpty();
    }

    /** The buckets whose units are held. */
    public int buckets() {
        return buckets.size();
    }
}
