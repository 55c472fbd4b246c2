package io.canaryflow.testing;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/**
 * Passes records through, and throws once — in the first attempt, after a checkpoint has completed
 * and {@code after} records have passed — to make the job recover from a checkpoint mid-stream.
 * State is static (one JVM, one MiniCluster), so the restarted attempt passes.
 */
public final class FailOnceAfterCheckpoint<T> implements MapFunction<T, T>, CheckpointListener {
    private static final long serialVersionUID = 1L;
    public static final AtomicBoolean FAILED = new AtomicBoolean();
    private static final AtomicLong SEEN = new AtomicLong();
    private static final AtomicBoolean CHECKPOINTED = new AtomicBoolean();

    private final long after;

    public FailOnceAfterCheckpoint(long after) {
        this.after = after;
    }

    public static void reset() {
        FAILED.set(false);
        SEEN.set(0);
        CHECKPOINTED.set(false);
    }

    @Override
    public T map(T value) {
        if (SEEN.incrementAndGet() > after
                && CHECKPOINTED.get()
                && FAILED.compareAndSet(false, true)) {
            throw new IllegalStateException("injected failure after a completed checkpoint");
        }
        return value;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
        CHECKPOINTED.set(true);
    }
}
