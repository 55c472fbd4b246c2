package io.canaryflow.modelloader;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.modelloader.tools.ManifestBuilder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoModelsTest {
    @TempDir static Path repo;
    static Map<String, Manifest> manifests;

    @BeforeAll
    static void generate() throws Exception {
        manifests =
                DemoModels.generate(repo, 11, 20_000, 5_000).stream()
                        .collect(Collectors.toMap(Manifest::version, m -> m));
    }

    @Test
    void shouldRankCandidateAboveBaselineAboveBadCandidate() {
        double baseline = manifests.get(DemoModels.BASELINE).metrics().get("auc");
        double good = manifests.get(DemoModels.GOOD_CANDIDATE).metrics().get("auc");
        double bad = manifests.get(DemoModels.BAD_CANDIDATE).metrics().get("auc");
        assertThat(baseline).isGreaterThan(0.7);
        assertThat(good).isGreaterThan(baseline);
        assertThat(bad).isLessThan(0.5);
    }

    @Test
    void shouldRecordTribuoInputOrderAndReferenceBinsInManifest() {
        Manifest m = manifests.get(DemoModels.BASELINE);
        assertThat(m.features()).isEqualTo(SyntheticFraud.FEATURES);
        assertThat(m.input()).isEqualTo("input");
        assertThat(m.referenceFeatures().keySet())
                .containsExactlyElementsOf(SyntheticFraud.FEATURES);
        assertThat(m.referenceScore().n()).isEqualTo(5_000);
        double total = 0;
        for (double f : m.referenceScore().fractions()) {
            total += f;
        }
        assertThat(total).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
        // Binary features are categorical: the zeros, the ones, and a bin for any other value.
        ReferenceBins night = m.referenceFeatures().get("night");
        assertThat(night.categorical()).isTrue();
        assertThat(night.categories()).containsExactly(0.0, 1.0);
        assertThat(night.fractions()).hasSize(3);
        assertThat(night.fractions()[2]).isZero();
        assertThat(night.binOf(0.0)).isZero();
        assertThat(night.binOf(1.0)).isEqualTo(1);
        assertThat(night.binOf(0.5)).isEqualTo(2);
        assertThat(m.referenceFeatures().get("amount").categorical()).isFalse();
    }

    @Test
    void shouldLoadEveryGeneratedVersionAndScoreLikeTheProbabilityOfFraud() throws Exception {
        ModelRepository repository = ModelRepository.at(repo.toString());
        assertThat(repository.versions(DemoModels.MODEL))
                .containsExactly(
                        DemoModels.BASELINE, DemoModels.GOOD_CANDIDATE, DemoModels.BAD_CANDIDATE);
        SyntheticFraud data = new SyntheticFraud(99);
        int n = 2_000;
        double[][] rows = new double[n][];
        double[] truth = new double[n];
        for (int i = 0; i < n; i++) {
            SyntheticFraud.Row row = data.next();
            rows[i] = row.features();
            truth[i] = row.fraud() ? 1 : 0;
        }
        for (String version : List.of(DemoModels.BASELINE, DemoModels.GOOD_CANDIDATE)) {
            ModelArtifact artifact = repository.read(new ModelVersion(DemoModels.MODEL, version));
            try (ModelSession session = ModelSession.open(artifact, SessionConfig.defaults())) {
                assertThat(session.device()).isEqualTo("cpu");
                FloatBuffer buffer = ModelSession.newInputBuffer(n, 8);
                for (int r = 0; r < n; r++) {
                    for (int c = 0; c < 8; c++) {
                        buffer.put(r * 8 + c, (float) rows[r][c]);
                    }
                }
                float[] scores = new float[n];
                session.score(buffer, n, scores);
                double[] asDouble = new double[n];
                for (int i = 0; i < n; i++) {
                    assertThat(scores[i]).isBetween(0f, 1f);
                    asDouble[i] = scores[i];
                }
                // Fresh data from another seed: the score must still rank fraud above legit.
                assertThat(ManifestBuilder.auc(asDouble, truth)).isGreaterThan(0.7);
            }
        }
    }
}
