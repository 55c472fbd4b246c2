package io.canaryflow.jobs.kafka;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.KafkaSourceEnumState;
import org.apache.flink.connector.kafka.source.split.KafkaPartitionSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.metrics.groups.SplitEnumeratorMetricGroup;

/**
 * A bounded {@link KafkaSource} that also finishes after a restore.
 *
 * <p>The connector's enumerator (5.0.0-2.2, FLINK-31006) tells its readers that no more splits will
 * come only when its one-time partition discovery finds partitions to assign. Restored from a
 * savepoint or checkpoint, every partition is already assigned, the discovery finds nothing new,
 * and the readers wait for that signal forever: a backfill ({@code kafka.bounded}) that was stopped
 * with a savepoint, or recovered by a global failover, never ends. This wrapper watches the
 * restored enumerator's discovery: when it completes without anything to assign, it signals every
 * reader (and every reader that registers later) itself. Everything else is the connector's.
 */
final class BoundedKafkaSource<T>
        implements Source<T, KafkaPartitionSplit, KafkaSourceEnumState>, ResultTypeQueryable<T> {
    private static final long serialVersionUID = 1L;

    private final KafkaSource<T> kafka;

    BoundedKafkaSource(KafkaSource<T> kafka) {
        if (kafka.getBoundedness() != Boundedness.BOUNDED) {
            throw new IllegalArgumentException("the source must be bounded");
        }
        this.kafka = kafka;
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SourceReader<T, KafkaPartitionSplit> createReader(SourceReaderContext context)
            throws Exception {
        return kafka.createReader(context);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> createEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context) {
        return kafka.createEnumerator(context);
    }

    @Override
    public SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> restoreEnumerator(
            SplitEnumeratorContext<KafkaPartitionSplit> context, KafkaSourceEnumState state)
            throws Exception {
        WatchedContext watched = new WatchedContext(context);
        return new Restored(kafka.restoreEnumerator(watched, state), watched);
    }

    @Override
    public SimpleVersionedSerializer<KafkaPartitionSplit> getSplitSerializer() {
        return kafka.getSplitSerializer();
    }

    @Override
    public SimpleVersionedSerializer<KafkaSourceEnumState> getEnumeratorCheckpointSerializer() {
        return kafka.getEnumeratorCheckpointSerializer();
    }

    @Override
    public TypeInformation<T> getProducedType() {
        return kafka.getProducedType();
    }

    /** The restored enumerator, signalling readers once its discovery had nothing to assign. */
    private static final class Restored
            implements SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> {
        private final SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> delegate;
        private final WatchedContext context;

        Restored(
                SplitEnumerator<KafkaPartitionSplit, KafkaSourceEnumState> delegate,
                WatchedContext context) {
            this.delegate = delegate;
            this.context = context;
        }

        @Override
        public void start() {
            delegate.start();
        }

        @Override
        public void handleSplitRequest(int subtaskId, String requesterHostname) {
            delegate.handleSplitRequest(subtaskId, requesterHostname);
        }

        @Override
        public void addSplitsBack(List<KafkaPartitionSplit> splits, int subtaskId) {
            delegate.addSplitsBack(splits, subtaskId);
            if (context.noMoreSplits && context.registeredReaders().containsKey(subtaskId)) {
                context.signalNoMoreSplits(subtaskId);
            }
        }

        @Override
        public void addReader(int subtaskId) {
            delegate.addReader(subtaskId);
            if (context.noMoreSplits) {
                context.signalNoMoreSplits(subtaskId);
            }
        }

        @Override
        public KafkaSourceEnumState snapshotState(long checkpointId) throws Exception {
            return delegate.snapshotState(checkpointId);
        }

        @Override
        public void close() throws java.io.IOException {
            try {
                delegate.close();
            } catch (java.io.IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new java.io.IOException(e);
            }
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) throws Exception {
            delegate.notifyCheckpointComplete(checkpointId);
        }

        @Override
        public void handleSourceEvent(int subtaskId, SourceEvent sourceEvent) {
            delegate.handleSourceEvent(subtaskId, sourceEvent);
        }
    }

    /**
     * The enumerator's context, watching its first asynchronous call (the one-time partition
     * discovery): when that call's handler completes without scheduling a follow-up (there were no
     * new partitions to initialize), no split will ever be assigned again.
     */
    private static final class WatchedContext
            implements SplitEnumeratorContext<KafkaPartitionSplit> {
        private final SplitEnumeratorContext<KafkaPartitionSplit> delegate;
        private boolean discoveryStarted;
        private boolean inDiscovery;
        private boolean followUp;
        volatile boolean noMoreSplits;

        WatchedContext(SplitEnumeratorContext<KafkaPartitionSplit> delegate) {
            this.delegate = delegate;
        }

        @Override
        public <R> void callAsync(Callable<R> callable, BiConsumer<R, Throwable> handler) {
            if (inDiscovery) {
                followUp = true; // the discovery found partitions: the connector signals itself
            }
            if (discoveryStarted) {
                delegate.callAsync(callable, handler);
                return;
            }
            discoveryStarted = true;
            delegate.callAsync(
                    callable,
                    (result, error) -> {
                        inDiscovery = true;
                        try {
                            handler.accept(result, error);
                        } finally {
                            inDiscovery = false;
                        }
                        if (error == null && !followUp) {
                            noMoreSplits = true;
                            for (int reader : delegate.registeredReaders().keySet()) {
                                delegate.signalNoMoreSplits(reader);
                            }
                        }
                    });
        }

        @Override
        public <R> void callAsync(
                Callable<R> callable,
                BiConsumer<R, Throwable> handler,
                long initialDelay,
                long period) {
            delegate.callAsync(callable, handler, initialDelay, period);
        }

        @Override
        public SplitEnumeratorMetricGroup metricGroup() {
            return delegate.metricGroup();
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, SourceEvent event) {
            delegate.sendEventToSourceReader(subtaskId, event);
        }

        @Override
        public void sendEventToSourceReader(int subtaskId, int attemptNumber, SourceEvent event) {
            delegate.sendEventToSourceReader(subtaskId, attemptNumber, event);
        }

        @Override
        public int currentParallelism() {
            return delegate.currentParallelism();
        }

        @Override
        public Map<Integer, ReaderInfo> registeredReaders() {
            return delegate.registeredReaders();
        }

        @Override
        public Map<Integer, Map<Integer, ReaderInfo>> registeredReadersOfAttempts() {
            return delegate.registeredReadersOfAttempts();
        }

        @Override
        public void assignSplits(SplitsAssignment<KafkaPartitionSplit> newSplitAssignments) {
            delegate.assignSplits(newSplitAssignments);
        }

        @Override
        public void signalNoMoreSplits(int subtask) {
            delegate.signalNoMoreSplits(subtask);
        }

        @Override
        public void runInCoordinatorThread(Runnable runnable) {
            delegate.runInCoordinatorThread(runnable);
        }

        @Override
        public void setIsProcessingBacklog(boolean isProcessingBacklog) {
            delegate.setIsProcessingBacklog(isProcessingBacklog);
        }
    }
}
