package io.canaryflow.modelloader;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An ONNX Runtime session for one model version, checked against its manifest and warmed up.
 *
 * <p>{@link #score} may be called from several threads at once (ONNX Runtime's {@code run} is
 * thread-safe); each caller brings its own input buffer. Every method throws {@link
 * IllegalStateException} once the session is closed.
 */
public final class ModelSession implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelSession.class);

    private final ModelVersion id;
    private final Manifest manifest;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final String device;
    private final Set<String> outputNames;
    private final int outputColumns;
    private final int outputRank;
    private final int fixedRows;
    private volatile boolean closed;

    private ModelSession(
            ModelVersion id,
            Manifest manifest,
            OrtEnvironment env,
            OrtSession session,
            String device,
            int outputColumns,
            int outputRank,
            int fixedRows) {
        this.id = id;
        this.manifest = manifest;
        this.env = env;
        this.session = session;
        this.device = device;
        this.outputNames = Set.of(manifest.output());
        this.outputColumns = outputColumns;
        this.outputRank = outputRank;
        this.fixedRows = fixedRows;
    }

    /**
     * Creates a session on the configured device, checks the model's input and output against the
     * manifest, and warms it up.
     *
     * @throws ModelLoadException naming the model file and the problem: unreadable model, input or
     *     output the manifest does not describe, CUDA demanded but unavailable, failed warm-up
     */
    public static ModelSession open(ModelArtifact artifact, SessionConfig config)
            throws ModelLoadException {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession session = null;
        String device = "cpu";
        long started = System.nanoTime();
        try {
            if (config.device() != Device.CPU) {
                try {
                    session = create(env, artifact, config, true);
                    device = "cuda:" + config.deviceId();
                } catch (OrtException e) {
                    if (config.device() == Device.CUDA) {
                        throw new ModelLoadException(
                                String.format(
                                        "device 'cuda' requested for %s but CUDA is not usable: %s",
                                        artifact.location(), e.getMessage()),
                                e);
                    }
                    LOG.info(
                            "CUDA not usable for {} ({}); using CPU",
                            artifact.id(),
                            e.getMessage());
                }
            }
            if (session == null) {
                session = create(env, artifact, config, false);
            }
        } catch (OrtException e) {
            throw new ModelLoadException(
                    String.format(
                            "model file %s cannot be loaded by ONNX Runtime: %s",
                            artifact.location(), e.getMessage()),
                    e);
        }
        try {
            int columns = validate(artifact, session);
            long rowsDim =
                    ((TensorInfo) session.getInputInfo().get(artifact.manifest().input()).getInfo())
                            .getShape()[0];
            int fixedRows = rowsDim > 0 ? (int) rowsDim : 0;
            int rank =
                    ((TensorInfo)
                                    session.getOutputInfo()
                                            .get(artifact.manifest().output())
                                            .getInfo())
                            .getShape()
                            .length;
            ModelSession live =
                    new ModelSession(
                            artifact.id(),
                            artifact.manifest(),
                            env,
                            session,
                            device,
                            columns,
                            rank,
                            fixedRows);
            live.warmUp(config.warmUpRuns(), artifact.location());
            LOG.info(
                    "model {} live on {} ({} intra-op threads) after {} ms",
                    artifact.id(),
                    device,
                    config.intraOpThreads(),
                    (System.nanoTime() - started) / 1_000_000);
            return live;
        } catch (OrtException e) {
            closeQuietly(session);
            throw new ModelLoadException(
                    String.format(
                            "cannot inspect model file %s: %s",
                            artifact.location(), e.getMessage()),
                    e);
        } catch (ModelLoadException | RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
    }

    private static OrtSession create(
            OrtEnvironment env, ModelArtifact artifact, SessionConfig config, boolean cuda)
            throws OrtException {
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(config.intraOpThreads());
            options.setInterOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (cuda) {
                options.addCUDA(config.deviceId());
            }
            return env.createSession(artifact.modelBytes(), options);
        }
    }

    /** Returns the number of output columns; throws if the model disagrees with the manifest. */
    private static int validate(ModelArtifact artifact, OrtSession session)
            throws ModelLoadException {
        Manifest m = artifact.manifest();
        try {
            Map<String, NodeInfo> inputs = session.getInputInfo();
            NodeInfo input = inputs.get(m.input());
            if (input == null) {
                throw mismatch(
                        artifact,
                        String.format(
                                "manifest input '%s' is not an input of the model (model inputs: %s)",
                                m.input(), inputs.keySet()));
            }
            if (!(input.getInfo() instanceof TensorInfo tensor)
                    || tensor.type != OnnxJavaType.FLOAT) {
                throw mismatch(
                        artifact,
                        String.format(
                                "model input '%s' is %s, expected a float tensor",
                                m.input(), input.getInfo()));
            }
            long[] shape = tensor.getShape();
            if (shape.length != 2 || (shape[1] >= 0 && shape[1] != m.width())) {
                throw mismatch(
                        artifact,
                        String.format(
                                "model input '%s' has shape %s but the manifest lists %d features",
                                m.input(), Arrays.toString(shape), m.width()));
            }
            Map<String, NodeInfo> outputs = session.getOutputInfo();
            NodeInfo output = outputs.get(m.output());
            if (output == null) {
                throw mismatch(
                        artifact,
                        String.format(
                                "manifest output '%s' is not an output of the model (model outputs: %s)",
                                m.output(), outputs.keySet()));
            }
            if (!(output.getInfo() instanceof TensorInfo outTensor)
                    || outTensor.type != OnnxJavaType.FLOAT) {
                throw mismatch(
                        artifact,
                        String.format(
                                "model output '%s' is %s, expected a float tensor",
                                m.output(), output.getInfo()));
            }
            long[] outShape = outTensor.getShape();
            int columns = outShape.length == 1 ? 1 : (int) outShape[outShape.length - 1];
            if (outShape.length > 2 || (columns >= 0 && m.scoreColumn() >= columns)) {
                throw mismatch(
                        artifact,
                        String.format(
                                "model output '%s' has shape %s; score column %d does not exist",
                                m.output(), Arrays.toString(outShape), m.scoreColumn()));
            }
            return Math.max(columns, 1);
        } catch (OrtException e) {
            throw new ModelLoadException(
                    String.format(
                            "cannot inspect model file %s: %s",
                            artifact.location(), e.getMessage()),
                    e);
        }
    }

    private static ModelLoadException mismatch(ModelArtifact artifact, String what) {
        return new ModelLoadException(
                String.format(
                        "model file %s disagrees with its manifest: %s",
                        artifact.location(), what));
    }

    private void warmUp(int runs, String location) throws ModelLoadException {
        int width = manifest.width();
        FloatBuffer row = newInputBuffer(1, width);
        for (int f = 0; f < width; f++) {
            ReferenceBins bins = manifest.referenceFeatures().get(manifest.features().get(f));
            row.put(f, bins == null || bins.edges().length == 0 ? 0f : (float) median(bins));
        }
        float[] score = new float[1];
        try {
            for (int i = 0; i < runs; i++) {
                score(row, 1, score);
            }
        } catch (OrtException | RuntimeException e) {
            throw new ModelLoadException(
                    String.format("warm-up of %s failed: %s", location, e.getMessage()), e);
        }
        if (!Float.isFinite(score[0])) {
            throw new ModelLoadException(
                    String.format(
                            "warm-up of %s returned a non-finite score (%s) for a typical row",
                            location, score[0]));
        }
    }

    private static double median(ReferenceBins bins) {
        return bins.edges()[bins.edges().length / 2];
    }

    /**
     * A direct, native-order buffer for {@code rows x width} floats, the layout {@link #score}
     * reads.
     */
    public static FloatBuffer newInputBuffer(int rows, int width) {
        return ByteBuffer.allocateDirect(rows * width * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    /**
     * Scores {@code rows} rows laid out row-major in {@code input} (positions {@code 0 ..
     * rows*width}) and writes each row's score into {@code scores[0..rows)}.
     *
     * @throws OrtException if ONNX Runtime fails the call; the whole call fails together
     */
    public void score(FloatBuffer input, int rows, float[] scores) throws OrtException {
        float[] outputs = new float[rows * outputColumns];
        run(input, rows, outputs);
        int column = manifest.scoreColumn();
        for (int r = 0; r < rows; r++) {
            scores[r] = outputs[r * outputColumns + column];
        }
    }

    /**
     * Runs the model on {@code rows} rows laid out row-major in {@code input} and copies the whole
     * output tensor, {@code rows x outputColumns()} row-major, into {@code outputs}.
     *
     * @throws OrtException if ONNX Runtime fails the call; the whole call fails together
     */
    public void run(FloatBuffer input, int rows, float[] outputs) throws OrtException {
        ensureOpen();
        int width = manifest.width();
        if (fixedRows > 0) {
            // The model takes exactly fixedRows rows per call: score in chunks, the last padded.
            FloatBuffer chunk = newInputBuffer(fixedRows, width);
            for (int first = 0; first < rows; first += fixedRows) {
                int n = Math.min(fixedRows, rows - first);
                float[] values = new float[fixedRows * width];
                input.get(first * width, values, 0, n * width);
                chunk.put(0, values);
                float[] out = new float[fixedRows * outputColumns];
                runRows(chunk, fixedRows, out);
                System.arraycopy(out, 0, outputs, first * outputColumns, n * outputColumns);
            }
            return;
        }
        runRows(input, rows, outputs);
    }

    private void runRows(FloatBuffer input, int rows, float[] outputs) throws OrtException {
        int width = manifest.width();
        FloatBuffer view = input.duplicate();
        view.position(0).limit(rows * width);
        try (OnnxTensor tensor =
                        OnnxTensor.createTensor(env, view.slice(), new long[] {rows, width});
                OrtSession.Result result =
                        session.run(Map.of(manifest.input(), tensor), outputNames)) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            out.get(outputs, 0, rows * outputColumns);
        }
    }

    /**
     * The number of rows every call of the model must have, when its input's first dimension is
     * fixed (a model exported for one batch size, often 1); 0 when the model takes any number.
     */
    public int fixedRows() {
        ensureOpen();
        return fixedRows;
    }

    /**
     * The rows per call a caller that wants batches of up to {@code maxBatch} rows should allocate
     * {@link Buffers} for: {@code maxBatch}, or the model's {@link #fixedRows} if it has them.
     */
    public int batchRows(int maxBatch) {
        return fixedRows() > 0 ? fixedRows : maxBatch;
    }

    /**
     * Reusable native memory for batches of up to {@code maxRows} rows: a direct input buffer the
     * caller writes rows into, and a direct output buffer ONNX Runtime writes into (a pinned
     * output, so results are not copied). A full batch reuses tensors created once. Not
     * thread-safe: one per caller. Close it to free its tensors.
     */
    public final class Buffers implements AutoCloseable {
        private final int maxRows;
        private final FloatBuffer input;
        private final FloatBuffer output;
        private final OnnxTensor fullInput;
        private final OnnxTensor fullOutput;
        private final Map<String, OnnxTensor> fullInputs;
        private final Map<String, OnnxTensor> fullOutputs;

        private Buffers(int maxRows) throws OrtException {
            this.maxRows = maxRows;
            this.input = newInputBuffer(maxRows, manifest.width());
            this.output = newInputBuffer(maxRows, outputColumns);
            this.fullInput =
                    OnnxTensor.createTensor(env, input, new long[] {maxRows, manifest.width()});
            this.fullOutput = OnnxTensor.createTensor(env, output, outputShape(maxRows));
            this.fullInputs = Map.of(manifest.input(), fullInput);
            this.fullOutputs = Map.of(manifest.output(), fullOutput);
        }

        /** Rows are written here, row-major, {@code width} floats each. */
        public FloatBuffer input() {
            return input;
        }

        /** Output column {@code column} of row {@code row} of the last {@link #run}. */
        public float output(int row, int column) {
            return output.get(row * outputColumns + column);
        }

        /**
         * Copies rows {@code 0..rows} of the last {@link #run}'s output, row-major, {@code
         * outputColumns()} floats each, into {@code into} from position 0: one bulk copy rather
         * than a bounds-checked native read per value.
         */
        public void outputs(int rows, float[] into) {
            output.get(0, into, 0, rows * outputColumns);
        }

        public int maxRows() {
            return maxRows;
        }

        @Override
        public void close() {
            fullInput.close();
            fullOutput.close();
        }
    }

    private long[] outputShape(int rows) {
        return outputRank == 1 ? new long[] {rows} : new long[] {rows, outputColumns};
    }

    /**
     * Allocates {@link Buffers} for batches of up to {@code maxRows} rows.
     *
     * @throws IllegalArgumentException if the model has {@link #fixedRows} and {@code maxRows}
     *     differs from them
     */
    public Buffers newBuffers(int maxRows) throws OrtException {
        ensureOpen();
        if (fixedRows > 0 && maxRows != fixedRows) {
            throw new IllegalArgumentException(
                    String.format(
                            "model %s takes exactly %d rows per call, not %d",
                            id, fixedRows, maxRows));
        }
        return new Buffers(maxRows);
    }

    /**
     * Runs the model on the first {@code rows} rows of {@code buffers.input()}; results are then
     * read with {@link Buffers#output}.
     *
     * @throws OrtException if ONNX Runtime fails the call; the whole call fails together
     */
    public void run(Buffers buffers, int rows) throws OrtException {
        ensureOpen();
        if (rows > buffers.maxRows) {
            throw new IllegalArgumentException(
                    rows + " rows do not fit buffers of " + buffers.maxRows);
        }
        // A model with fixed rows runs on all of them; rows past {@code rows} are left-overs of
        // earlier batches (or zeros), and their outputs are not read.
        if (rows == buffers.maxRows || fixedRows > 0) {
            session.run(buffers.fullInputs, Set.of(), buffers.fullOutputs).close();
            return;
        }
        int width = manifest.width();
        FloatBuffer in = buffers.input.duplicate().position(0).limit(rows * width).slice();
        FloatBuffer out =
                buffers.output.duplicate().position(0).limit(rows * outputColumns).slice();
        try (OnnxTensor inTensor = OnnxTensor.createTensor(env, in, new long[] {rows, width});
                OnnxTensor outTensor = OnnxTensor.createTensor(env, out, outputShape(rows))) {
            session.run(
                            Map.of(manifest.input(), inTensor),
                            Set.of(),
                            Map.of(manifest.output(), outTensor))
                    .close();
        }
    }

    /** Columns per row of the output tensor (1 for a one-dimensional output). */
    public int outputColumns() {
        ensureOpen();
        return outputColumns;
    }

    public ModelVersion id() {
        ensureOpen();
        return id;
    }

    public Manifest manifest() {
        ensureOpen();
        return manifest;
    }

    /** The device this session runs on: {@code cpu} or {@code cuda:<id>}. */
    public String device() {
        ensureOpen();
        return device;
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("session for " + id + " is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            closeQuietly(session);
        }
    }

    private static void closeQuietly(OrtSession session) {
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("closing an ONNX Runtime session failed", e);
        }
    }
}
