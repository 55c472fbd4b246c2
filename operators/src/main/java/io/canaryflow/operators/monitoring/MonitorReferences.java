package io.canaryflow.operators.monitoring;

import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelLoadException;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.modelloader.ReferenceBins;
import io.canaryflow.operators.decode.ExperimentSchema;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference bins a model version is monitored against, per experiment-schema feature (from its
 * manifest), read once per version. A feature the version's manifest has no reference for is binned
 * into a single bin and reported as having no reference.
 */
final class MonitorReferences {
    private static final ReferenceBins NONE =
            new ReferenceBins(new double[0], new double[] {1.0}, 0);

    /**
     * References of one version; {@code features.get(i)} is {@code null} without a reference.
     *
     * @param sharedScore the experiment's shared score bins (see {@link #MonitorReferences})
     * @param kind {@code classifier} or {@code regressor}
     */
    record Version(
            List<String> names,
            List<ReferenceBins> features,
            ReferenceBins score,
            ReferenceBins sharedScore,
            String kind) {
        /** Bins for histograms: features in schema order, then the score, then the shared score. */
        List<ReferenceBins> binning() {
            List<ReferenceBins> all = new ArrayList<>();
            features.forEach(b -> all.add(b == null ? NONE : b));
            all.add(score == null ? NONE : score);
            all.add(sharedScore == null ? NONE : sharedScore);
            return all;
        }
    }

    private final ModelRepository repository;
    private final Map<String, ExperimentSchema> schemas;
    private final Map<String, String> sharedScoreVersions;
    private final Map<String, Version> cache = new HashMap<>();
    private final Map<String, ReferenceBins> shared = new HashMap<>();

    /**
     * @param sharedScoreVersions per experiment, the version (its baseline as configured) whose
     *     reference score bins every arm's score is also binned on: both sides of a comparison
     *     between arms then share one partition of the score axis
     */
    MonitorReferences(
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            Map<String, String> sharedScoreVersions) {
        this.repository = repository;
        this.schemas = schemas;
        this.sharedScoreVersions = sharedScoreVersions;
    }

    private ReferenceBins sharedScore(String experiment, String model) {
        if (!shared.containsKey(experiment)) {
            ReferenceBins bins = null;
            String version = sharedScoreVersions.get(experiment);
            if (version != null) {
                try {
                    bins =
                            repository
                                    .readManifest(new ModelVersion(model, version))
                                    .referenceScore();
                } catch (ModelLoadException e) {
                    bins = null;
                }
            }
            shared.put(experiment, bins);
        }
        return shared.get(experiment);
    }

    /** The references of a version, or null if its manifest cannot be read. */
    Version of(String experiment, String model, String version) {
        String key = experiment + '\u0000' + model + '\u0000' + version;
        if (cache.containsKey(key)) {
            return cache.get(key);
        }
        Version v = null;
        ExperimentSchema schema = schemas.get(experiment);
        if (schema != null) {
            try {
                Manifest m = repository.readManifest(new ModelVersion(model, version));
                List<ReferenceBins> features = new ArrayList<>();
                for (String name : schema.features()) {
                    features.add(m.referenceFeatures().get(name));
                }
                v =
                        new Version(
                                schema.features(),
                                features,
                                m.referenceScore(),
                                sharedScore(experiment, model),
                                m.kind());
            } catch (ModelLoadException e) {
                v = null;
            }
        }
        cache.put(key, v);
        return v;
    }
}
