package io.canaryflow.operators.units;

/**
 * The units already seen in one open window of one series, by their {@link UnitSketch#hash}: an
 * open-addressing set of longs on the heap (no boxing), dropped when the window closes.
 */
public final class UnitSet {
    private final long windowEnd;
    private long[] slots = new long[64];
    private int size;

    public UnitSet(long windowEnd) {
        this.windowEnd = windowEnd;
    }

    public long windowEnd() {
        return windowEnd;
    }

    public int size() {
        return size;
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
