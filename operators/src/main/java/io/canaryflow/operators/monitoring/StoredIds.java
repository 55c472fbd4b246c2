package io.canaryflow.operators.monitoring;

import java.util.ArrayDeque;

/**
 * Which event ids may have a value in the state backend that is not on the label join's heap, so
 * that a prediction whose id was never written skips the backend's lookup (a miss in RocksDB still
 * searches its memtable and every file's filter). A Bloom filter per generation of written ids,
 * never wrong about an id that is stored: a generation is dropped only once the join's time has
 * passed the cleanup of every event it saw and the next write has deleted them.
 *
 * <p>Ids it did not see (restored from a checkpoint, or more live ids than {@value
 * #MAX_GENERATIONS} generations hold) make every id "maybe stored" until the cleanup of the last of
 * them: then the join looks each one up, as without the filter.
 */
final class StoredIds {
    static final int IDS_PER_GENERATION = 1 << 20;
    static final int MAX_GENERATIONS = 8;
    private static final int HASHES = 7;

    private final int idsPerGeneration;
    private final int maxGenerations;

    /** Full generations, and those that hold every id (ids this filter never saw). */
    private final ArrayDeque<Generation> sealed = new ArrayDeque<>();

    private Generation current;

    StoredIds() {
        this(IDS_PER_GENERATION, MAX_GENERATIONS);
    }

    /** 10 bits per id, about 1 % false positives when a generation is full. */
    StoredIds(int idsPerGeneration, int maxGenerations) {
        this.idsPerGeneration = idsPerGeneration;
        this.maxGenerations = maxGenerations;
        this.current = new Generation(idsPerGeneration * 10);
    }

    /**
     * Every id may be stored until the cleanup at {@code until} (ids restored, which this filter
     * did not see; {@link Long#MAX_VALUE} for good).
     */
    void unknownUntil(long until) {
        sealed.add(Generation.everything(until));
    }

    boolean mayContain(String id) {
        long x = hash(id);
        if (current.contains(x)) {
            return true;
        }
        for (Generation g : sealed) {
            if (g.contains(x)) {
                return true;
            }
        }
        return false;
    }

    /** An event written to the backend, to be removed at the cleanup step {@code cleanupAt}. */
    void add(String id, long cleanupAt) {
        if (current.count == idsPerGeneration) {
            sealed.add(current);
            current = new Generation(idsPerGeneration * 10);
            if (sealed.stream().filter(g -> g.size > 0).count() > maxGenerations) {
                long until = Long.MIN_VALUE;
                for (Generation g : sealed) {
                    until = Math.max(until, g.maxCleanup);
                }
                sealed.clear();
                unknownUntil(until); // too many ids to hold: every id until they are cleaned
            }
        }
        current.add(hash(id), cleanupAt);
    }

    /**
     * The join's time passed {@code time} and its cleanup timers up to it fired: the events they
     * removed leave the backend at the next write ({@link #written}).
     */
    void advanced(long time) {
        for (Generation g : sealed) {
            if (g.maxCleanup <= time) {
                g.cleaned = true;
            }
        }
    }

    /** The removed events are deleted from the backend: generations they filled are dropped. */
    void written() {
        sealed.removeIf(g -> g.cleaned);
    }

    private static long hash(String id) {
        long x = id.hashCode() * 0x9E3779B97F4A7C15L;
        return x ^ (x >>> 29);
    }

    private static final class Generation {
        final int size;
        final long[] bits;
        int count;
        long maxCleanup = Long.MIN_VALUE;
        boolean cleaned;

        Generation(int size) {
            this.bits = new long[(size + 63) / 64];
            this.size = bits.length * 64;
        }

        /** A generation that may hold every id, until the cleanup at {@code until}. */
        static Generation everything(long until) {
            Generation g = new Generation(0);
            g.maxCleanup = until;
            return g;
        }

        void add(long x, long cleanupAt) {
            int h1 = (int) x;
            int h2 = (int) (x >>> 32) | 1;
            for (int i = 0; i < HASHES; i++) {
                int bit = Math.floorMod(h1 + i * h2, size);
                bits[bit >>> 6] |= 1L << bit;
            }
            count++;
            maxCleanup = Math.max(maxCleanup, cleanupAt);
        }

        boolean contains(long x) {
            if (size == 0) {
                return true; // every id
            }
            int h1 = (int) x;
            int h2 = (int) (x >>> 32) | 1;
            for (int i = 0; i < HASHES; i++) {
                int bit = Math.floorMod(h1 + i * h2, size);
                if ((bits[bit >>> 6] & (1L << bit)) == 0) {
                    return false;
                }
            }
            return true;
        }
    }
}
