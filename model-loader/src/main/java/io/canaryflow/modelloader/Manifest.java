package io.canaryflow.modelloader;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a model version is: the file's checksum, the input tensor and its ordered features, the
 * output tensor and which column is the score, and the reference distributions the monitors compare
 * against. Stored as {@code manifest.json} next to {@code model.onnx}.
 *
 * @param features input column order of the model (for Tribuo models, lexicographic by name)
 * @param scoreColumn column of the output tensor that is the score (0 for a one-column output)
 * @param kind {@code classifier} (score = probability of the positive class) or {@code regressor}
 * @param referenceFeatures reference bins per feature name
 * @param referenceScore reference bins of the score
 * @param metrics free-form quality figures recorded when the version was built (e.g. holdout AUC)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        @JsonProperty("model") String model,
        @JsonProperty("version") String version,
        @JsonProperty("sha256") String sha256,
        @JsonProperty("input") String input,
        @JsonProperty("features") List<String> features,
        @JsonProperty("output") String output,
        @JsonProperty("score_column") int scoreColumn,
        @JsonProperty("kind") String kind,
        @JsonProperty("reference_features") Map<String, ReferenceBins> referenceFeatures,
        @JsonProperty("reference_score") ReferenceBins referenceScore,
        @JsonProperty("created_at") String createdAt,
        @JsonProperty("metrics") Map<String, Double> metrics) {

    @JsonCreator
    public Manifest {
        requireText(model, "model");
        requireText(version, "version");
        requireText(sha256, "sha256");
        requireText(input, "input");
        requireText(output, "output");
        if (features == null || features.isEmpty()) {
            throw new IllegalArgumentException("manifest field 'features' must list at least one");
        }
        if (features.stream().distinct().count() != features.size()) {
            throw new IllegalArgumentException("manifest field 'features' has duplicates");
        }
        if (scoreColumn < 0) {
            throw new IllegalArgumentException("manifest field 'score_column' must be >= 0");
        }
        features = List.copyOf(features);
        kind = kind == null ? "classifier" : kind;
        referenceFeatures =
                referenceFeatures == null
                        ? Map.of()
                        : java.util.Collections.unmodifiableMap(
                                new LinkedHashMap<>(referenceFeatures));
        metrics = metrics == null ? Map.of() : Map.copyOf(metrics);
    }

    /** Number of input columns. */
    public int width() {
        return features.size();
    }

    private static void requireText(String value, String field) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(
                    String.format("manifest field '%s' is missing or empty", field));
        }
    }
}
