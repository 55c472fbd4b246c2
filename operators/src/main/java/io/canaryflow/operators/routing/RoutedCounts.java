package io.canaryflow.operators.routing;

import io.canaryflow.operators.monitoring.RoutedPartial;
import io.canaryflow.operators.records.RoutedEvent;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The route operator's count of what it routes, per (experiment, version, arm) and event-time
 * bucket, on the heap: handed downstream as {@link RoutedPartial}s when the watermark passes a
 * bucket, before a checkpoint barrier and when the input goes idle (the merge adds the pieces up,
 * so a bucket may be handed on in several). An event whose bucket the watermark has passed is late
 * and not counted: monitoring counts it as late too, not as an attempt of its window.
 */
public final class RoutedCounts {
    private final long bucketMillis;
    private final Map<Key, long[]> open = new HashMap<>();
    private long watermark = Long.MIN_VALUE;

    private record Key(String experiment, String model, String version, String arm, long start) {}

    public RoutedCounts(long bucketMillis) {
        if (bucketMillis < 1) {
            throw new IllegalArgumentException("buckets must last at least 1 ms");
        }
        this.bucketMillis = bucketMillis;
    }

    /** Counts one routed event in its bucket, unless the bucket has already been handed on. */
    public void add(RoutedEvent e) {
        long start = Math.floorDiv(e.event().ts(), bucketMillis) * bucketMillis;
        if (start + bucketMillis - 1 <= watermark) {
            return;
        }
        Key key =
                new Key(e.event().experiment(), e.model(), e.version(), e.arm().wireName(), start);
        open.computeIfAbsent(key, k -> new long[1])[0]++;
    }

    /** The counts of every bucket the watermark {@code mark} has passed, removed. */
    public List<RoutedPartial> passed(long mark) {
        watermark = Math.max(watermark, mark);
        return drain(mark);
    }

    /** Every count still open, removed (before a barrier, or when the input goes idle). */
    public List<RoutedPartial> all() {
        return drain(Long.MAX_VALUE);
    }

    private List<RoutedPartial> drain(long mark) {
        List<RoutedPartial> out = new ArrayList<>();
        Iterator<Map.Entry<Key, long[]>> it = open.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Key, long[]> e = it.next();
            Key k = e.getKey();
            if (mark == Long.MAX_VALUE || k.start() + bucketMillis - 1 <= mark) {
                out.add(
                        new RoutedPartial(
                                k.experiment(),
                                k.model(),
                                k.version(),
                                k.arm(),
                                k.start(),
                                k.start() + bucketMillis,
                                e.getValue()[0]));
                it.remove();
            }
        }
        return out;
    }
}
