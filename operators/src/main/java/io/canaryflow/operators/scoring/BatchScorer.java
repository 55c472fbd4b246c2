package io.canaryflow.operators.scoring;

import ai.onnxruntime.OrtException;
import io.canaryflow.modelloader.ModelArtifact;
import io.canaryflow.modelloader.ModelLoadException;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelSession;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.modelloader.SessionCache;
import io.canaryflow.modelloader.SessionConfig;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.RoutedEvent;
import io.canaryflow.operators.records.ScoringFailure;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micro-batches routed events per (experiment, model version) and scores each batch with one ONNX
 * Runtime call. Rows are written straight into a reused direct native-order {@link FloatBuffer}; a
 * batch is scored when it reaches {@code maxBatch} rows or when the caller flushes it (on a timer,
 * before a checkpoint barrier, at end of input). A model whose input takes a fixed number of rows
 * (exported for one batch size) gets batches of exactly that many instead, a partial batch padded.
 *
 * <p>Failure handling, so that one bad row or version never fails the others:
 *
 * <ul>
 *   <li>a version that cannot be loaded is remembered with its error; its events are served by
 *       their fallback (the plan's baseline) with {@code fallback_from} set, or, with no usable
 *       fallback, dead-lettered as {@code MODEL_FAILURE}; shadow scorings of it are skipped and
 *       counted, since their event is accounted for by its served prediction;
 *   <li>if ONNX Runtime fails a batch, each row is retried alone, and only rows that fail alone, or
 *       whose score is not finite, are dead-lettered.
 * </ul>
 *
 * <p>Not thread-safe: one instance per operator instance. Sessions are shared JVM-wide through
 * {@link SessionCache}.
 */
public final class BatchScorer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchScorer.class);

    /** Where results go. */
    public interface Emitter {
        void prediction(Prediction prediction);

        void deadLetter(DeadLetter deadLetter);

        /**
         * A version failed to score an event routed to it: a {@link Prediction} with {@code
         * failure} set, for monitoring only. Comes in addition to the event's fallback prediction,
         * dead letter or skipped shadow scoring.
         */
        void failure(Prediction failed);
    }

    /** Told once per version whether it loaded; for metrics and logs. */
    public interface LoadListener {
        /** {@code counters} keep counting the version's batches from here on. */
        void loaded(
                String experiment,
                ModelVersion version,
                ModelSession session,
                InferenceCounters counters);

        void failed(String experiment, ModelVersion version, String error);
    }

    private final ModelRepository repository;
    private final SessionConfig sessionConfig;
    private final Map<String, ExperimentSchema> schemas;
    private final int maxBatch;
    private final SessionCache cache;
    private final LongSupplier nanoClock;
    private final LongSupplier millisClock;
    private final LoadListener listener;
    private final Map<String, Map<String, Batch>> batches = new HashMap<>();
    private final List<SessionCache.Lease> leases = new ArrayList<>();
    private int buffered;
    private long shadowSkipped;
    private Batch lastBatch;

    public BatchScorer(
            ModelRepository repository,
            SessionConfig sessionConfig,
            Map<String, ExperimentSchema> schemas,
            int maxBatch,
            SessionCache cache,
            LongSupplier nanoClock,
            LongSupplier millisClock,
            LoadListener listener) {
        if (maxBatch < 1) {
            throw new IllegalArgumentException("max batch must be >= 1, got " + maxBatch);
        }
        this.repository = repository;
        this.sessionConfig = sessionConfig;
        this.schemas = Map.copyOf(schemas);
        this.maxBatch = maxBatch;
        this.cache = cache;
        this.nanoClock = nanoClock;
        this.millisClock = millisClock;
        this.listener = listener;
    }

    /**
     * What one version's ONNX Runtime calls have done: batches run, rows in them, and the time
     * spent inside ONNX Runtime (from just before a call to just after it). Time in the scorer that
     * is not in these nanoseconds is the scorer's own (gathering features, building predictions).
     *
     * <p>Written by the scorer's thread only; other threads (metric reporters) may read slightly
     * stale values.
     */
    public static final class InferenceCounters {
        private volatile long batches;
        private volatile long rows;
        private volatile long nanos;

        void add(int batchRows, long batchNanos) {
            // One writer: plain read-modify-write of volatiles is safe and publishes the result.
            batches = batches + 1;
            rows = rows + batchRows;
            nanos = nanos + batchNanos;
        }

        public long batches() {
            return batches;
        }

        public long rows() {
            return rows;
        }

        /** Nanoseconds spent inside ONNX Runtime. */
        public long nanos() {
            return nanos;
        }
    }

    /** The buffer of one (experiment, version), or the reason it cannot score. */
    private final class Batch {
        final String experiment;
        final ModelVersion id;
        final ModelSession session;
        final String error;
        final int[] columns;

        /** Whether the model reads the experiment's features in the experiment's own order. */
        final boolean sameOrder;

        final int width;
        final int outputColumns;

        /** Rows a batch holds: {@code maxBatch}, or the model's fixed rows per call. */
        final int capacity;

        final ModelSession.Buffers buffers;
        final FloatBuffer input;

        /** Rows gathered on the heap, copied to {@link #input} in one bulk copy per batch. */
        final float[] rows;

        /** The last run's outputs, copied off the native buffer in one bulk copy. */
        final float[] outputs;

        ModelSession.Buffers single;
        final RoutedEvent[] events;
        final String[] fallbackFrom;
        final long[] enqueuedNanos;
        final InferenceCounters counters = new InferenceCounters();
        int size;
        long firstEnqueuedMillis;

        Batch(
                String experiment,
                ModelVersion id,
                ModelSession session,
                ModelSession.Buffers buffers,
                String error) {
            this.experiment = experiment;
            this.id = id;
            this.session = session;
            this.error = error;
            if (session == null) {
                columns = null;
                sameOrder = false;
                width = outputColumns = capacity = 0;
                this.buffers = null;
                input = null;
                rows = outputs = null;
                events = null;
                fallbackFrom = null;
                enqueuedNanos = null;
            } else {
                columns = schemas.get(experiment).columnsFor(session.manifest().features());
                width = columns.length;
                sameOrder = isIdentity(columns);
                outputColumns = session.outputColumns();
                this.buffers = buffers;
                capacity = buffers.maxRows();
                input = buffers.input();
                rows = new float[capacity * width];
                outputs = new float[capacity * outputColumns];
                events = new RoutedEvent[capacity];
                fallbackFrom = new String[capacity];
                enqueuedNanos = new long[capacity];
            }
        }

        boolean usable() {
            return session != null;
        }

        void close() {
            if (buffers != null) {
                buffers.close();
            }
            if (single != null) {
                single.close();
            }
        }
    }

    /** Loads a version now rather than on its first event, so it is warm before traffic arrives. */
    public void preload(String experiment, String model, String version) {
        batch(experiment, model, version);
    }

    private Batch batch(String experiment, String model, String version) {
        // Consecutive events mostly go to the same version: skip the two map lookups then.
        Batch last = lastBatch;
        if (last != null
                && last.experiment.equals(experiment)
                && last.id.version().equals(version)) {
            return last;
        }
        Batch found = lookup(experiment, model, version);
        lastBatch = found;
        return found;
    }

    private Batch lookup(String experiment, String model, String version) {
        Map<String, Batch> perVersion = batches.computeIfAbsent(experiment, e -> new HashMap<>());
        Batch batch = perVersion.get(version);
        if (batch == null) {
            batch = load(experiment, new ModelVersion(model, version));
            perVersion.put(version, batch);
        }
        return batch;
    }

    private Batch load(String experiment, ModelVersion id) {
        String error;
        try {
            if (!schemas.containsKey(experiment)) {
                throw new ModelLoadException("experiment '" + experiment + "' has no schema");
            }
            ModelArtifact artifact = repository.read(id);
            SessionCache.Lease lease = cache.acquire(artifact, sessionConfig);
            try {
                ModelSession session = lease.session();
                if (session.fixedRows() > 0 && session.fixedRows() != maxBatch) {
                    LOG.info(
                            "model {} takes exactly {} rows per call: its batches have {} rows"
                                    + " (max batch {} does not apply to it)",
                            id,
                            session.fixedRows(),
                            session.fixedRows(),
                            maxBatch);
                }
                Batch batch =
                        new Batch(
                                experiment,
                                id,
                                session,
                                session.newBuffers(session.batchRows(maxBatch)),
                                null);
                leases.add(lease);
                listener.loaded(experiment, id, lease.session(), batch.counters);
                return batch;
            } catch (IllegalArgumentException e) {
                lease.close();
                throw new ModelLoadException(
                        String.format("model %s does not fit experiment: %s", id, e.getMessage()),
                        e);
            } catch (OrtException e) {
                lease.close();
                throw new ModelLoadException(
                        String.format(
                                "cannot allocate batch buffers for %s: %s", id, e.getMessage()),
                        e);
            }
        } catch (ModelLoadException e) {
            error = e.getMessage();
        }
        LOG.error("model {} is not loadable for experiment {}: {}", id, experiment, error);
        listener.failed(experiment, id, error);
        return new Batch(experiment, id, null, null, error);
    }

    /**
     * Adds one routed event; scores its batch if that made it full.
     *
     * <p>Reads the nano clock once per event (for its latency) and the processing-time clock only
     * when the event opens a batch, fills one, or fails.
     */
    public void add(RoutedEvent routed, Emitter out) {
        FeatureEvent event = routed.event();
        Batch batch = batch(event.experiment(), routed.model(), routed.version());
        String fallbackFrom = null;
        if (!batch.usable()) {
            Batch fallback =
                    routed.served() && routed.fallbackVersion() != null
                            ? batch(event.experiment(), routed.model(), routed.fallbackVersion())
                            : null;
            out.failure(
                    failed(
                            routed,
                            routed.version(),
                            routed.arm(),
                            ScoringFailure.UNAVAILABLE,
                            millisClock.getAsLong()));
            if (fallback != null && fallback.usable()) {
                fallbackFrom = routed.version();
                batch = fallback;
            } else if (routed.served()) {
                out.deadLetter(
                        failure(
                                routed,
                                String.format(
                                        "model %s cannot be loaded: %s%s",
                                        batch.id,
                                        batch.error,
                                        fallback == null
                                                ? ""
                                                : "; fallback "
                                                        + fallback.id
                                                        + " neither: "
                                                        + fallback.error),
                                millisClock.getAsLong()));
                return;
            } else {
                shadowSkipped++;
                return;
            }
        }
        int row = batch.size;
        int base = row * batch.width;
        float[] features = event.features();
        if (batch.sameOrder) {
            System.arraycopy(features, 0, batch.rows, base, batch.width);
        } else {
            int[] columns = batch.columns;
            float[] rows = batch.rows;
            for (int c = 0; c < columns.length; c++) {
                rows[base + c] = features[columns[c]];
            }
        }
        batch.events[row] = routed;
        batch.fallbackFrom[row] = fallbackFrom;
        batch.enqueuedNanos[row] = nanoClock.getAsLong();
        if (row == 0) {
            batch.firstEnqueuedMillis = millisClock.getAsLong();
        }
        batch.size++;
        buffered++;
        if (batch.size == batch.capacity) {
            score(batch, millisClock.getAsLong(), out);
        }
    }

    /** Scores every batch whose first row has waited {@code maxDelayMillis} or longer. */
    public void flushDue(long nowMillis, long maxDelayMillis, Emitter out) {
        for (Map<String, Batch> perVersion : batches.values()) {
            for (Batch batch : perVersion.values()) {
                if (batch.size > 0 && nowMillis - batch.firstEnqueuedMillis >= maxDelayMillis) {
                    score(batch, nowMillis, out);
                }
            }
        }
    }

    /** Scores every non-empty batch. */
    public void flushAll(long nowMillis, Emitter out) {
        for (Map<String, Batch> perVersion : batches.values()) {
            for (Batch batch : perVersion.values()) {
                if (batch.size > 0) {
                    score(batch, nowMillis, out);
                }
            }
        }
    }

    /** Rows waiting in batches. */
    public int buffered() {
        return buffered;
    }

    /** Processing time at which the oldest waiting row entered its batch, or -1 if none waits. */
    public long oldestEnqueuedMillis() {
        long oldest = Long.MAX_VALUE;
        for (Map<String, Batch> perVersion : batches.values()) {
            for (Batch batch : perVersion.values()) {
                if (batch.size > 0) {
                    oldest = Math.min(oldest, batch.firstEnqueuedMillis);
                }
            }
        }
        return oldest == Long.MAX_VALUE ? -1 : oldest;
    }

    /** Shadow scorings skipped because the shadow version could not be loaded. */
    public long shadowSkipped() {
        return shadowSkipped;
    }

    private void score(Batch batch, long nowMillis, Emitter out) {
        int rows = batch.size;
        long done = 0;
        boolean ran = false;
        try {
            batch.input.put(0, batch.rows, 0, rows * batch.width);
            long started = nanoClock.getAsLong();
            batch.session.run(batch.buffers, rows);
            done = nanoClock.getAsLong();
            batch.counters.add(rows, done - started);
            batch.buffers.outputs(rows, batch.outputs);
            ran = true;
        } catch (OrtException | RuntimeException e) {
            LOG.warn(
                    "model {} failed a batch of {} rows, retrying row by row: {}",
                    batch.id,
                    rows,
                    e.getMessage());
            retryRows(batch, nowMillis, out);
        }
        // Outside the try: an exception from downstream must not make rows be scored again.
        if (ran) {
            emit(batch, 0, rows, batch.outputs, done, nowMillis, out);
        }
        Arrays.fill(batch.events, 0, rows, null);
        Arrays.fill(batch.fallbackFrom, 0, rows, null);
        buffered -= rows;
        batch.size = 0;
    }

    private void retryRows(Batch batch, long nowMillis, Emitter out) {
        for (int r = 0; r < batch.size; r++) {
            float[] output = new float[batch.outputColumns];
            long done;
            try {
                if (batch.single == null) {
                    batch.single = batch.session.newBuffers(batch.session.batchRows(1));
                }
                batch.single.input().put(0, batch.rows, r * batch.width, batch.width);
                long started = nanoClock.getAsLong();
                batch.session.run(batch.single, 1);
                done = nanoClock.getAsLong();
                batch.counters.add(1, done - started);
                batch.single.outputs(1, output);
            } catch (OrtException | RuntimeException e) {
                out.failure(failed(batch, r, ScoringFailure.RUN_FAILURE, nowMillis));
                if (batch.events[r].served()) {
                    out.deadLetter(
                            failure(
                                    batch.events[r],
                                    String.format(
                                            "model %s failed to score the row: %s",
                                            batch.id, e.getMessage()),
                                    nowMillis));
                } else {
                    shadowSkipped++;
                }
                continue;
            }
            emit(batch, r, 1, output, done, nowMillis, out);
        }
    }

    /**
     * Emits batch rows {@code first .. first+rows}, whose outputs are rows {@code 0..rows} of
     * {@code outputs} (row-major, {@code outputColumns} each), scored at nano-clock time {@code
     * done}.
     */
    private void emit(
            Batch batch,
            int first,
            int rows,
            float[] outputs,
            long done,
            long nowMillis,
            Emitter out) {
        int columns = batch.outputColumns;
        int scoreColumn = batch.session.manifest().scoreColumn();
        for (int i = 0; i < rows; i++) {
            int r = first + i;
            RoutedEvent routed = batch.events[r];
            float score = outputs[i * columns + scoreColumn];
            if (!Float.isFinite(score)) {
                out.failure(failed(batch, r, ScoringFailure.NON_FINITE, nowMillis));
                if (routed.served()) {
                    out.deadLetter(
                            failure(
                                    routed,
                                    String.format(
                                            "model %s returned a non-finite score (%s)",
                                            batch.id, score),
                                    nowMillis));
                } else {
                    shadowSkipped++;
                }
                continue;
            }
            float[] row = Arrays.copyOfRange(outputs, i * columns, (i + 1) * columns);
            FeatureEvent event = routed.event();
            out.prediction(
                    new Prediction(
                            event.eventId(),
                            event.unit(),
                            event.experiment(),
                            batch.id.model(),
                            batch.id.version(),
                            batch.fallbackFrom[r] == null ? routed.arm() : Arm.BASELINE,
                            routed.served(),
                            score,
                            row,
                            event.ts(),
                            nowMillis,
                            Math.max(0, (done - batch.enqueuedNanos[r]) / 1_000),
                            routed.planId(),
                            routed.bucket(),
                            batch.fallbackFrom[r],
                            event.features(),
                            event.segment(),
                            null));
        }
    }

    private static boolean isIdentity(int[] columns) {
        for (int c = 0; c < columns.length; c++) {
            if (columns[c] != c) {
                return false;
            }
        }
        return true;
    }

    /** The failure of row {@code r} of {@code batch}, attributed to the batch's version. */
    private static Prediction failed(Batch batch, int r, ScoringFailure why, long nowMillis) {
        RoutedEvent routed = batch.events[r];
        return failed(
                routed,
                batch.id.version(),
                batch.fallbackFrom[r] == null ? routed.arm() : Arm.BASELINE,
                why,
                nowMillis);
    }

    private static Prediction failed(
            RoutedEvent routed, String version, Arm arm, ScoringFailure why, long nowMillis) {
        FeatureEvent event = routed.event();
        return new Prediction(
                event.eventId(),
                event.unit(),
                event.experiment(),
                routed.model(),
                version,
                arm,
                routed.served(),
                Float.NaN,
                null,
                event.ts(),
                nowMillis,
                0,
                routed.planId(),
                routed.bucket(),
                null,
                event.features(),
                event.segment(),
                why);
    }

    private static DeadLetter failure(RoutedEvent routed, String detail, long nowMillis) {
        FeatureEvent e = routed.event();
        return DeadLetter.of(
                e.source(), Reason.MODEL_FAILURE, detail, e.eventId(), e.experiment(), nowMillis);
    }

    @Override
    public void close() {
        for (Map<String, Batch> perVersion : batches.values()) {
            perVersion.values().forEach(Batch::close);
        }
        for (SessionCache.Lease lease : leases) {
            lease.close();
        }
        leases.clear();
        batches.clear();
        lastBatch = null;
    }
}
