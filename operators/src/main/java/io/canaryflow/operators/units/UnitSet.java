package io.canaryflow.operators.units;

/**
 * The units already seen in one bucket of one series (a tumbling window, or one slide of a sliding
 * window), by their {@link UnitSketch#hash}: an open-addressing set of longs on the heap (no
 * boxing), dropped when no window still open holds the bucket ({@link UnitWindows}).
 */
public final class UnitSet {
    private final long windowEnd;
    private long[] slots = new long[64];
    private int size;

    public UnitSet(long windowEnd) {
        this.windowEnd = windowEnd;
    }

    /** The end of the bucket (or window) whose units these are. */
    public long windowEnd() {
        return windowEnd;
    }

    public int size() {
        return size;
    }

    /** Whether the unit is in the set. */
    public boolean contains(long hash) {
        long h = hash == 0 ? 1 : hash;
        int mask = slots.length - 1;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (slots[i] != 0) {
            if (slots[i] == h) {
                return true;
            }
            i = (i + 1) & mask;
        }
        return false;
    }

    /** Adds a unit; whether it was new. */
    public boolean add(long hash) {
        long h = hash == 0 ? 1 : hash; // 0 marks an empty slot
        int mask = slots.length - 1;
        int i = (int) (h ^ (h >>> 32)) & mask;
        while (slots[i] != 0) {
            if (slots[i] == h) {
                return false;
            }
            i = (i + 1) & mask;
        }
        slots[i] = h;
        if (++size * 2 > slots.length) {
            grow();
        }
        return true;
    }

    private void grow() {
        long[] old = slots;
        slots = new long[old.length * 2];
        int mask = slots.length - 1;
        for (long h : old) {
            if (h != 0) {
                int i = (int) (h ^ (h >>> 32)) & mask;
                while (slots[i] != 0) {
                    i = (i + 1) & mask;
                }
                slots[i] = h;
            }
        }
    }
}
