package io.canaryflow.modelloader;

import java.util.HashMap;
import java.util.Map;

/**
 * One {@link ModelSession} per model version (by checksum) and session configuration per JVM,
 * shared by every operator instance in the TaskManager and closed when the last one releases it.
 */
public final class SessionCache {
    private static final SessionCache SHARED = new SessionCache();

    private record Key(String sha256, SessionConfig config) {}

    private static final class Entry {
        final ModelSession session;
        int references;

        Entry(ModelSession session) {
            this.session = session;
        }
    }

    private final Map<Key, Entry> entries = new HashMap<>();

    /** The JVM-wide cache. */
    public static SessionCache shared() {
        return SHARED;
    }

    /** A lease on a shared session; closing the lease releases it, exactly once. */
    public final class Lease implements AutoCloseable {
        private final Key key;
        private final ModelSession session;
        private boolean released;

        private Lease(Key key, ModelSession session) {
            this.key = key;
            this.session = session;
        }

        public ModelSession session() {
            return session;
        }

        @Override
        public void close() {
            synchronized (SessionCache.this) {
                if (released) {
                    return;
                }
                released = true;
                Entry entry = entries.get(key);
                if (entry != null && --entry.references == 0) {
                    entries.remove(key);
                    entry.session.close();
                }
            }
        }
    }

    /** Returns a lease on the session for {@code artifact}, opening it on first use. */
    public synchronized Lease acquire(ModelArtifact artifact, SessionConfig config)
            throws ModelLoadException {
        Key key = new Key(artifact.manifest().sha256() + "/" + artifact.id(), config);
        Entry entry = entries.get(key);
        if (entry == null) {
            entry = new Entry(ModelSession.open(artifact, config));
            entries.put(key, entry);
        }
        entry.references++;
        return new Lease(key, entry.session);
    }

    /** Number of live sessions, for metrics and tests. */
    public synchronized int size() {
        return entries.size();
    }
}
