package io.canaryflow.operators.decode;

import io.canaryflow.modelloader.Manifest;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The features an experiment's events must carry, in a fixed order: the baseline manifest's input
 * order, then any feature another version needs that the baseline does not, sorted by name. A dense
 * {@code features} array is read in this order.
 */
public final class ExperimentSchema implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String experiment;
    private final String model;
    private final List<String> features;
    private transient Map<String, Integer> index;

    public ExperimentSchema(String experiment, String model, List<String> features) {
        if (features.isEmpty()) {
            throw new IllegalArgumentException(
                    "experiment '" + experiment + "' has no features: no manifest could be read");
        }
        if (new LinkedHashSet<>(features).size() != features.size()) {
            throw new IllegalArgumentException(
                    "experiment '" + experiment + "' lists a feature twice");
        }
        this.experiment = experiment;
        this.model = model;
        this.features = List.copyOf(features);
    }

    /**
     * The schema of an experiment whose versions are described by {@code manifests}, baseline
     * first.
     */
    public static ExperimentSchema of(String experiment, String model, List<Manifest> manifests) {
        List<String> order = new ArrayList<>();
        Set<String> extra = new TreeSet<>();
        for (int i = 0; i < manifests.size(); i++) {
            if (i == 0) {
                order.addAll(manifests.get(0).features());
            } else {
                extra.addAll(manifests.get(i).features());
            }
        }
        extra.removeAll(order);
        order.addAll(extra);
        return new ExperimentSchema(experiment, model, order);
    }

    public String experiment() {
        return experiment;
    }

    public String model() {
        return model;
    }

    public List<String> features() {
        return features;
    }

    public int width() {
        return features.size();
    }

    /** Position of {@code feature} in the schema, or -1. */
    public int indexOf(String feature) {
        if (index == null) {
            Map<String, Integer> built = new HashMap<>();
            for (int i = 0; i < features.size(); i++) {
                built.put(features.get(i), i);
            }
            index = built;
        }
        Integer i = index.get(feature);
        return i == null ? -1 : i;
    }

    /**
     * For a model whose inputs are {@code modelFeatures}, the schema position of each input column.
     *
     * @throws IllegalArgumentException naming a model feature the schema lacks
     */
    public int[] columnsFor(List<String> modelFeatures) {
        int[] columns = new int[modelFeatures.size()];
        for (int c = 0; c < columns.length; c++) {
            columns[c] = indexOf(modelFeatures.get(c));
            if (columns[c] < 0) {
                throw new IllegalArgumentException(
                        String.format(
                                "feature '%s' is not in experiment '%s' (features: %s)",
                                modelFeatures.get(c), experiment, features));
            }
        }
        return columns;
    }

    @Override
    public String toString() {
        return "ExperimentSchema{"
                + experiment
                + ", model="
                + model
                + ", features="
                + features
                + "}";
    }
}
