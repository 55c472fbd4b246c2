package io.canaryflow.modelloader.tools;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.canaryflow.modelloader.Checksums;
import io.canaryflow.modelloader.Device;
import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelArtifact;
import io.canaryflow.modelloader.ModelLoadException;
import io.canaryflow.modelloader.ModelSession;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.modelloader.ReferenceBins;
import java.nio.FloatBuffer;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Builds a version's manifest from its ONNX file and a reference sample: checksum, input and output
 * names read from the model, reference quantile bins for every feature (categorical bins for a
 * feature with at most {@link #MAX_CATEGORIES} distinct integral values), and reference bins of the
 * score computed by running the model itself on the sample. With labels, records holdout AUC and
 * log-loss as metrics.
 */
public final class ManifestBuilder {
    /** A feature with at most this many distinct values, all integers, is categorical. */
    public static final int MAX_CATEGORIES = 10;

    public static final int DEFAULT_BINS = 10;

    private ManifestBuilder() {}

    public static Manifest build(
            byte[] model,
            ModelVersion id,
            ReferenceData reference,
            int scoreColumn,
            String kind,
            int bins,
            Instant now)
            throws ModelLoadException {
        if (reference.rows().isEmpty()) {
            throw new IllegalArgumentException("reference sample has no rows");
        }
        String input;
        String output;
        try (OrtSession probe = OrtEnvironment.getEnvironment().createSession(model)) {
            if (probe.getNumInputs() != 1) {
                throw new ModelLoadException(
                        "model has " + probe.getInputNames() + " inputs; exactly one is supported");
            }
            input = probe.getInputNames().iterator().next();
            output = probe.getOutputNames().iterator().next();
        } catch (OrtException e) {
            throw new ModelLoadException(
                    "model cannot be loaded by ONNX Runtime: " + e.getMessage(), e);
        }

        Map<String, ReferenceBins> featureBins = new LinkedHashMap<>();
        for (int f = 0; f < reference.features().size(); f++) {
            featureBins.put(
                    reference.features().get(f),
                    ReferenceBins.fromSample(reference.column(f), bins, MAX_CATEGORIES));
        }
        String sha = Checksums.sha256Hex(model);
        Manifest provisional =
                new Manifest(
                        id.model(),
                        id.version(),
                        sha,
                        input,
                        reference.features(),
                        output,
                        scoreColumn,
                        kind,
                        featureBins,
                        null,
                        now.toString(),
                        null);
        double[] scores =
                scoreAll(new ModelArtifact(id, provisional, model, "(manifest build)"), reference);
        Map<String, Double> metrics = new LinkedHashMap<>();
        if (reference.labels() != null && "classifier".equals(kind)) {
            metrics.put("auc", auc(scores, reference.labels()));
            metrics.put("log_loss", logLoss(scores, reference.labels()));
        }
        metrics.put("reference_rows", (double) reference.rows().size());
        return new Manifest(
                id.model(),
                id.version(),
                sha,
                input,
                reference.features(),
                output,
                scoreColumn,
                kind,
                featureBins,
                ReferenceBins.fromSample(scores, bins),
                now.toString(),
                metrics);
    }

    private static double[] scoreAll(ModelArtifact artifact, ReferenceData reference)
            throws ModelLoadException {
        int width = reference.features().size();
        int batch = 512;
        double[] scores = new double[reference.rows().size()];
        try (ModelSession session =
                ModelSession.open(
                        artifact,
                        new io.canaryflow.modelloader.SessionConfig(Device.CPU, 0, 1, 1))) {
            FloatBuffer buffer = ModelSession.newInputBuffer(batch, width);
            float[] out = new float[batch];
            for (int start = 0; start < scores.length; start += batch) {
                int n = Math.min(batch, scores.length - start);
                for (int r = 0; r < n; r++) {
                    double[] row = reference.rows().get(start + r);
                    for (int c = 0; c < width; c++) {
                        buffer.put(r * width + c, (float) row[c]);
                    }
                }
                session.score(buffer, n, out);
                for (int r = 0; r < n; r++) {
                    scores[start + r] = out[r];
                }
            }
        } catch (OrtException e) {
            throw new ModelLoadException(
                    "scoring the reference sample failed: " + e.getMessage(), e);
        }
        return scores;
    }

    /** Area under the ROC curve by the rank-sum (Mann-Whitney) formula, ties given mid-ranks. */
    public static double auc(double[] scores, double[] labels) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double rankSumPositive = 0;
        long positives = 0;
        int i = 0;
        while (i < order.length) {
            int j = i;
            while (j + 1 < order.length && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double midRank = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) {
                if (labels[order[k]] > 0.5) {
                    rankSumPositive += midRank;
                    positives++;
                }
            }
            i = j + 1;
        }
        long negatives = scores.length - positives;
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        return (rankSumPositive - positives * (positives + 1) / 2.0) / (positives * negatives);
    }

    /** Mean binary cross-entropy, probabilities clipped to [1e-7, 1 - 1e-7]. */
    public static double logLoss(double[] scores, double[] labels) {
        double sum = 0;
        for (int i = 0; i < scores.length; i++) {
            double p = Math.min(1 - 1e-7, Math.max(1e-7, scores[i]));
            sum -= labels[i] > 0.5 ? Math.log(p) : Math.log(1 - p);
        }
        return sum / scores.length;
    }
}
