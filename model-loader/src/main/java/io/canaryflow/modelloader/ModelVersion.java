package io.canaryflow.modelloader;

import java.io.Serializable;

/** A model name and one of its versions, as laid out in the repository. */
public record ModelVersion(String model, String version) implements Serializable {
    public ModelVersion {
        if (model == null || model.isBlank() || model.contains("/") || model.contains("..")) {
            throw new IllegalArgumentException("invalid model name: '" + model + "'");
        }
        if (version == null
                || version.isBlank()
                || version.contains("/")
                || version.contains("..")) {
            throw new IllegalArgumentException("invalid model version: '" + version + "'");
        }
    }

    @Override
    public String toString() {
        return model + "/" + version;
    }
}
