package io.canaryflow.operators.routing;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * How an experiment's traffic is split between model versions.
 *
 * <ul>
 *   <li>{@code CANARY}: {@code canaryPercent} of the buckets go to the candidate, {@code [0,
 *       100p)}; a control cohort of the same size, {@code [5000, 5000 + 100p)}, is served by the
 *       baseline and compared with it. Above 50 % the control cohort is every non-candidate bucket.
 *       Everyone else is "baseline": served by the baseline and not compared.
 *   <li>{@code AB}: {@code variants} split the buckets by weight in list order; the first variant
 *       is the control, the others candidates.
 *   <li>{@code SHADOW}: every event is served by the baseline and also scored, unserved, by the
 *       candidate.
 * </ul>
 *
 * @param planId identifies this plan; stamped on every prediction routed under it
 * @param salt hash salt; a new salt reshuffles every unit
 * @param canaryPercent candidate share in percent, 0..100, in steps of 0.01 (one bucket)
 * @param variants A/B variants; empty for the other modes
 */
public record RolloutPlan(
        String planId,
        String experiment,
        String model,
        Mode mode,
        String salt,
        String baseline,
        String candidate,
        double canaryPercent,
        List<Variant> variants)
        implements Serializable {

    public enum Mode {
        CANARY,
        AB,
        SHADOW;

        public static Mode parse(String value) {
            for (Mode m : values()) {
                if (m.name().equalsIgnoreCase(value)) {
                    return m;
                }
            }
            throw new IllegalArgumentException(
                    String.format("unknown mode '%s', allowed: canary, ab, shadow", value));
        }

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** One A/B variant and its relative weight (> 0). */
    public record Variant(String version, double weight) implements Serializable {}

    public RolloutPlan {
        variants = variants == null ? List.of() : List.copyOf(variants);
        List<String> problems =
                problems(
                        planId,
                        experiment,
                        model,
                        mode,
                        salt,
                        baseline,
                        candidate,
                        canaryPercent,
                        variants);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
        if (mode == Mode.AB) {
            baseline = variants.get(0).version();
        }
    }

    /** Every problem of a plan's fields, each naming its experiment and field; empty if none. */
    private static List<String> problems(
            String planId,
            String experiment,
            String model,
            Mode mode,
            String salt,
            String baseline,
            String candidate,
            double canaryPercent,
            List<Variant> variants) {
        List<String> problems = new java.util.ArrayList<>();
        require(planId, "plan_id", experiment, problems);
        require(experiment, "experiment", experiment, problems);
        require(model, "model", experiment, problems);
        require(salt, "salt", experiment, problems);
        if (mode == null) {
            problems.add(
                    String.format(
                            "experiment '%s': mode is required (canary, ab, shadow)", experiment));
            return problems;
        }
        switch (mode) {
            case CANARY, SHADOW -> {
                require(baseline, "baseline", experiment, problems);
                require(candidate, "candidate", experiment, problems);
                if (mode == Mode.CANARY && !(canaryPercent >= 0 && canaryPercent <= 100)) {
                    problems.add(
                            String.format(
                                    "experiment '%s': canary-percent must be within [0, 100], got %s",
                                    experiment, canaryPercent));
                }
            }
            case AB -> {
                if (variants == null || variants.size() < 2) {
                    problems.add(
                            String.format(
                                    "experiment '%s': ab mode needs at least two variants",
                                    experiment));
                    return problems;
                }
                for (Variant v : variants) {
                    require(v.version(), "variants[].version", experiment, problems);
                    if (!(v.weight() > 0) || Double.isInfinite(v.weight())) {
                        problems.add(
                                String.format(
                                        "experiment '%s': variant '%s' needs a weight > 0, got %s",
                                        experiment, v.version(), v.weight()));
                    }
                }
            }
        }
        return problems;
    }

    private static void require(
            String value, String field, String experiment, List<String> problems) {
        if (value == null || value.isBlank()) {
            problems.add(String.format("experiment '%s': %s is required", experiment, field));
        }
    }

    /** Every version this plan may route to, baseline first. */
    public List<String> versions() {
        return switch (mode) {
            case CANARY, SHADOW -> List.of(baseline, candidate);
            case AB -> variants.stream().map(Variant::version).toList();
        };
    }
}
