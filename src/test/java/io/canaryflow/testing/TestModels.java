package io.canaryflow.testing;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelSession;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.modelloader.SessionConfig;
import io.canaryflow.modelloader.tools.DemoModels;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Real generated models for the end-to-end tests, and direct ONNX Runtime scoring to compare with.
 */
public final class TestModels {
    private TestModels() {}

    public static ModelRepository generate(Path dir) throws Exception {
        DemoModels.generate(dir, 42, 5_000, 2_000);
        return ModelRepository.at(dir.toString());
    }

    /**
     * Scores {@code rows} (features in manifest order) with a fresh session of {@code version}, one
     * call.
     */
    public static float[] directScores(
            ModelRepository repository, String version, List<float[]> rows) throws Exception {
        try (ModelSession session =
                ModelSession.open(
                        repository.read(new ModelVersion(DemoModels.MODEL, version)),
                        SessionConfig.defaults())) {
            int width = session.manifest().width();
            FloatBuffer input = ModelSession.newInputBuffer(rows.size(), width);
            for (int r = 0; r < rows.size(); r++) {
                for (int c = 0; c < width; c++) {
                    input.put(r * width + c, rows.get(r)[c]);
                }
            }
            float[] scores = new float[rows.size()];
            session.score(input, rows.size(), scores);
            return scores;
        }
    }
}
