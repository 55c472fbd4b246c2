package io.canaryflow.jobs.config;

import io.canaryflow.modelloader.Checksums;
import io.canaryflow.operators.routing.RolloutPlan;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The keys of one experiment, {@code experiments.<name>.<field>}:
 *
 * <ul>
 *   <li>{@code model} — model name in the repository (default: the experiment name)
 *   <li>{@code mode} — canary | ab | shadow (default canary)
 *   <li>{@code salt} — routing hash salt (default: the experiment name)
 *   <li>{@code baseline}, {@code candidate} — versions (canary, shadow)
 *   <li>{@code canary-percent} — candidate share, 0..100 (canary; default 0)
 *   <li>{@code variants} — {@code version:weight,...} (ab)
 *   <li>{@code plan-id} — default: experiment name + hash of the plan's fields
 * </ul>
 *
 * <p>How a canary or shadow is judged (with {@code control.enabled}):
 *
 * <ul>
 *   <li>{@code schedule} — candidate percent per step (default 1, 5, 10, 25, 50, 100)
 *   <li>{@code min-step-duration} — event time per step at least (default 5 min)
 *   <li>{@code min-samples} — scorings per arm per step at least (default 1000)
 *   <li>{@code guardrails} — {@code metric:threshold[:critical][:tau=T]}, comma-separated; metric
 *       {@code inference_error_rate} or {@code label_error_rate}, threshold the largest tolerated
 *       increase over the control (default {@code inference_error_rate:0.01:critical})
 *   <li>{@code alpha} — family-wise error of the guardrail tests (default 0.05)
 *   <li>{@code srm-p} — SRM p-value below which a window is UNHEALTHY (default 0.001)
 *   <li>{@code fail-limit} — failed windows in a row of a non-critical guardrail (default 2)
 *   <li>{@code dry-run} — decide without changing routing (default false)
 *   <li>{@code window} — judging window, a multiple of {@code monitoring.window} (default: each
 *       monitoring window)
 * </ul>
 */
public final class ExperimentConfig {
    /** Every field an experiment may have: its routing plan's, then its rollout policy's. */
    public static final Set<String> FIELDS = fields();

    private static Set<String> fields() {
        Set<String> fields =
                new java.util.LinkedHashSet<>(
                        List.of(
                                "model",
                                "mode",
                                "salt",
                                "baseline",
                                "candidate",
                                "canary-percent",
                                "variants",
                                "plan-id"));
        fields.addAll(io.canaryflow.operators.judge.RolloutPolicy.FIELDS);
        return java.util.Collections.unmodifiableSet(fields);
    }

    private ExperimentConfig() {}

    /**
     * How experiment {@code name}'s canary is judged, from its fields.
     *
     * @throws IllegalArgumentException naming the key at fault
     */
    public static io.canaryflow.operators.judge.RolloutPolicy toPolicy(
            String name, Map<String, String> fields) {
        return io.canaryflow.operators.judge.RolloutPolicy.fromFields(
                fields, "experiments." + name + ".");
    }

    /**
     * Builds the plan of experiment {@code name} from its fields.
     *
     * @throws IllegalArgumentException naming the key at fault
     */
    public static RolloutPlan toPlan(String name, Map<String, String> fields) {
        String prefix = "experiments." + name + ".";
        List<String> problems = new ArrayList<>();
        RolloutPlan.Mode mode = RolloutPlan.Mode.CANARY;
        try {
            mode = RolloutPlan.Mode.parse(fields.getOrDefault("mode", "canary"));
        } catch (IllegalArgumentException e) {
            problems.add(prefix + "mode: " + e.getMessage());
        }
        double percent = 0;
        if (fields.containsKey("canary-percent")) {
            try {
                percent = Double.parseDouble(fields.get("canary-percent").trim());
            } catch (NumberFormatException e) {
                problems.add(
                        String.format(
                                "%scanary-percent: '%s' is not a number",
                                prefix, fields.get("canary-percent")));
            }
        }
        List<RolloutPlan.Variant> variants = new ArrayList<>();
        if (fields.containsKey("variants")) {
            for (String part : fields.get("variants").split(",")) {
                String[] vw = part.trim().split(":");
                try {
                    variants.add(
                            new RolloutPlan.Variant(
                                    vw[0].trim(),
                                    vw.length > 1 ? Double.parseDouble(vw[1].trim()) : 1));
                } catch (NumberFormatException e) {
                    problems.add(
                            String.format(
                                    "%svariants: '%s' is not version:weight", prefix, part.trim()));
                }
            }
        }
        String model = fields.getOrDefault("model", name);
        String salt = fields.getOrDefault("salt", name);
        String planId =
                fields.getOrDefault("plan-id", name + "-" + hash(name, new TreeMap<>(fields)));
        if (problems.isEmpty()) {
            try {
                return new RolloutPlan(
                        planId,
                        name,
                        model,
                        mode,
                        salt,
                        fields.get("baseline"),
                        fields.get("candidate"),
                        percent,
                        variants);
            } catch (IllegalArgumentException e) {
                // the plan names every problem of its fields, "; "-separated
                for (String p : e.getMessage().split("; ")) {
                    problems.add(prefix.substring(0, prefix.length() - 1) + ": " + p);
                }
            }
        }
        throw new ConfigException(problems);
    }

    private static String hash(String name, TreeMap<String, String> fields) {
        StringBuilder canonical = new StringBuilder(name);
        fields.forEach((k, v) -> canonical.append(k).append('=').append(v).append('\n'));
        return Checksums.sha256Hex(canonical.toString().getBytes(StandardCharsets.UTF_8))
                .substring(0, 12);
    }
}
