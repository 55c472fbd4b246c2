package io.canaryflow.modelloader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.canaryflow.modelloader.tools.DemoModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelRepositoryTest {
    @TempDir static Path repo;
    static ModelRepository repository;
    static final ModelVersion BASELINE = new ModelVersion(DemoModels.MODEL, DemoModels.BASELINE);

    @BeforeAll
    static void generate() throws Exception {
        DemoModels.generate(repo, 3, 5_000, 2_000);
        repository = ModelRepository.at(repo.toString());
    }

    /** Copies the baseline to a new version directory and lets the test damage it. */
    private static ModelVersion copyOfBaseline(String version) throws Exception {
        Path from = repo.resolve(DemoModels.MODEL).resolve(DemoModels.BASELINE);
        Path to = repo.resolve(DemoModels.MODEL).resolve(version);
        Files.createDirectories(to);
        Files.copy(from.resolve("model.onnx"), to.resolve("model.onnx"));
        String manifest = Files.readString(from.resolve("manifest.json"));
        Files.writeString(
                to.resolve("manifest.json"),
                manifest.replace(
                        "\"version\" : \"" + DemoModels.BASELINE + "\"",
                        "\"version\" : \"" + version + "\""));
        return new ModelVersion(DemoModels.MODEL, version);
    }

    private static void rewriteManifest(ModelVersion id, String from, String to) throws Exception {
        Path file = repo.resolve(id.model()).resolve(id.version()).resolve("manifest.json");
        String text = Files.readString(file);
        assertThat(text).contains(from);
        Files.writeString(file, text.replace(from, to));
    }

    @Test
    void shouldRejectModelWhoseChecksumDiffersNamingTheFile() throws Exception {
        ModelVersion id = copyOfBaseline("tampered");
        Path model = repo.resolve("fraud/tampered/model.onnx");
        Files.write(model, new byte[] {0}, java.nio.file.StandardOpenOption.APPEND);

        assertThatThrownBy(() -> repository.read(id))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("checksum mismatch")
                .hasMessageContaining(model.toString())
                .hasMessageContaining(Checksums.sha256Hex(Files.readAllBytes(model)));
    }

    @Test
    void shouldRejectCorruptModelFileNamingTheFile() throws Exception {
        ModelVersion id = copyOfBaseline("corrupt");
        Path model = repo.resolve("fraud/corrupt/model.onnx");
        byte[] garbage = "this is not an onnx model".getBytes(StandardCharsets.UTF_8);
        String oldSha = Checksums.sha256Hex(Files.readAllBytes(model));
        Files.write(model, garbage);
        rewriteManifest(id, oldSha, Checksums.sha256Hex(garbage));

        ModelArtifact artifact = repository.read(id);
        assertThatThrownBy(() -> ModelSession.open(artifact, SessionConfig.defaults()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(model.toString())
                .hasMessageContaining("cannot be loaded by ONNX Runtime");
    }

    @Test
    void shouldRejectManifestWhoseInputNameDiffersFromModel() throws Exception {
        ModelVersion id = copyOfBaseline("wrong-input");
        rewriteManifest(id, "\"input\" : \"input\"", "\"input\" : \"features\"");

        ModelArtifact artifact = repository.read(id);
        assertThatThrownBy(() -> ModelSession.open(artifact, SessionConfig.defaults()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("disagrees with its manifest")
                .hasMessageContaining("manifest input 'features' is not an input of the model");
    }

    @Test
    void shouldRejectManifestListingFewerFeaturesThanModelInputs() throws Exception {
        ModelVersion id = copyOfBaseline("wrong-width");
        rewriteManifest(id, "\"velocity_1h\" ]", "]");
        rewriteManifest(id, "\"prior_chargebacks\",", "\"prior_chargebacks\"");

        ModelArtifact artifact = repository.read(id);
        assertThat(artifact.manifest().width()).isEqualTo(7);
        assertThatThrownBy(() -> ModelSession.open(artifact, SessionConfig.defaults()))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("has shape [-1, 8] but the manifest lists 7 features");
    }

    @Test
    void shouldRejectManifestThatDescribesAnotherVersion() throws Exception {
        Path dir = repo.resolve("fraud/impostor");
        Files.createDirectories(dir);
        Files.copy(repo.resolve("fraud/v1/manifest.json"), dir.resolve("manifest.json"));

        assertThatThrownBy(() -> repository.readManifest(new ModelVersion("fraud", "impostor")))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("describes fraud/v1, not fraud/impostor");
    }

    @Test
    void shouldReportMissingManifestWithItsPath() {
        assertThatThrownBy(() -> repository.read(new ModelVersion("fraud", "v404")))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining(repo.resolve("fraud/v404/manifest.json").toString());
    }

    @Test
    void shouldFailCudaDemandWithoutGpuButFallBackToCpuOnAuto() throws Exception {
        ModelArtifact artifact = repository.read(BASELINE);
        assertThatThrownBy(
                        () -> ModelSession.open(artifact, new SessionConfig(Device.CUDA, 0, 1, 1)))
                .isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("device 'cuda' requested");
        try (ModelSession session =
                ModelSession.open(artifact, new SessionConfig(Device.AUTO, 0, 1, 1))) {
            assertThat(session.device()).isEqualTo("cpu");
        }
    }

    @Test
    void shouldShareOneSessionPerVersionAndCloseItWithTheLastLease() throws Exception {
        SessionCache cache = new SessionCache();
        ModelArtifact artifact = repository.read(BASELINE);
        List<SessionCache.Lease> leases = new ArrayList<>();
        leases.add(cache.acquire(artifact, SessionConfig.defaults()));
        leases.add(cache.acquire(repository.read(BASELINE), SessionConfig.defaults()));
        assertThat(leases.get(0).session()).isSameAs(leases.get(1).session());
        assertThat(cache.size()).isEqualTo(1);

        ModelSession shared = leases.get(0).session();
        leases.get(0).close();
        leases.get(0).close(); // a second release of the same lease is a no-op
        assertThat(shared.device()).isEqualTo("cpu");
        leases.get(1).close();
        assertThat(cache.size()).isZero();
        assertThatThrownBy(shared::device)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void shouldScoreAModelExportedForAFixedNumberOfRowsInPaddedChunks() throws Exception {
        ModelVersion fixed = copyOfBaseline("v7-fixed-4");
        Path file = repo.resolve(fixed.model()).resolve(fixed.version()).resolve("model.onnx");
        byte[] original = Files.readAllBytes(file);
        ai.onnx.proto.OnnxMl.ModelProto.Builder model =
                ai.onnx.proto.OnnxMl.ModelProto.parseFrom(original).toBuilder();
        model.getGraphBuilder()
                .getInputBuilder(0)
                .getTypeBuilder()
                .getTensorTypeBuilder()
                .getShapeBuilder()
                .getDimBuilder(0)
                .clearDimParam()
                .setDimValue(4);
        byte[] bytes = model.build().toByteArray();
        Files.write(file, bytes);
        rewriteManifest(fixed, Checksums.sha256Hex(original), Checksums.sha256Hex(bytes));

        int width = repository.read(BASELINE).manifest().width();
        java.nio.FloatBuffer rows = ModelSession.newInputBuffer(6, width);
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        for (int i = 0; i < 6 * width; i++) {
            rows.put(i, (float) random.nextDouble(0, 3));
        }
        float[] expected = new float[6];
        float[] scores = new float[6];
        try (ModelSession baseline =
                        ModelSession.open(repository.read(BASELINE), SessionConfig.defaults());
                ModelSession session =
                        ModelSession.open(repository.read(fixed), SessionConfig.defaults())) {
            assertThat(baseline.fixedRows()).isZero();
            assertThat(baseline.batchRows(256)).isEqualTo(256);
            assertThat(session.fixedRows()).isEqualTo(4);
            assertThat(session.batchRows(256)).isEqualTo(4);
            assertThatThrownBy(() -> session.newBuffers(256))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("exactly 4 rows per call, not 256");

            baseline.score(rows, 6, expected);
            // Six rows: a chunk of four, then two padded to four.
            session.score(rows, 6, scores);
        }
        assertThat(scores).containsExactly(expected);
    }
}
