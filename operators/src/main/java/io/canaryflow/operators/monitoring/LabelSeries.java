package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.units.UnitSketch;
import java.io.Serializable;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A series label outcomes are counted in: an experiment's version in one arm. The label join keeps
 * and ships a 64-bit hash of it ({@link #hash}) instead of its strings; every series a job can
 * produce is known from its configuration ({@link #of}), so the join turns the hash back into the
 * series when it counts.
 */
public record LabelSeries(String experiment, String model, String version, String arm)
        implements Serializable {

    /** The series' hash: the same in every task, run and version of Canaryflow. */
    public static long hash(String experiment, String version, String arm) {
        return UnitSketch.hash(experiment + '\u0000' + version + '\u0000' + arm);
    }

    public long hash() {
        return hash(experiment, version, arm);
    }

    /**
     * Every series of the experiments: each version of each experiment's model in every arm.
     *
     * @param versions per experiment, its model and versions ({@code [model, version...]})
     */
    public static Map<Long, LabelSeries> of(Map<String, List<String>> versions) {
        Map<Long, LabelSeries> all = new HashMap<>();
        versions.forEach(
                (experiment, modelAndVersions) -> {
                    String model = modelAndVersions.get(0);
                    for (String version : modelAndVersions.subList(1, modelAndVersions.size())) {
                        for (Arm arm : Arm.values()) {
                            LabelSeries s =
                                    new LabelSeries(experiment, model, version, arm.wireName());
                            if (all.put(s.hash(), s) != null) {
                                throw new IllegalStateException("series hash collision: " + s);
                            }
                        }
                    }
                });
        return all;
    }
}
