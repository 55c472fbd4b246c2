package io.canaryflow.operators.routing;

import io.canaryflow.operators.records.Arm;
import java.util.List;

/**
 * Decides which model versions score a unit's event under a {@link RolloutPlan}. Pure: the same
 * plan and unit always give the same answer.
 */
public final class Router {

    /**
     * One scoring of an event.
     *
     * @param fallback the version that serves if {@code version} cannot, or null for the baseline
     */
    public record Assignment(String version, Arm arm, boolean served, String fallback) {}

    private final Buckets buckets = new Buckets();

    public int bucket(RolloutPlan plan, String unit) {
        return buckets.bucket(plan.salt(), unit);
    }

    /** The scorings of a unit in {@code bucket}: one, or two in shadow mode (served first). */
    public static List<Assignment> assign(RolloutPlan plan, int bucket) {
        return switch (plan.mode()) {
            case CANARY -> List.of(canary(plan, bucket));
            case SHADOW ->
                    List.of(
                            new Assignment(plan.baseline(), Arm.BASELINE, true, null),
                            new Assignment(plan.candidate(), Arm.SHADOW, false, null));
            case AB -> List.of(ab(plan, bucket));
        };
    }

    /** Buckets below this many go to the candidate. */
    public static int candidateBuckets(double canaryPercent) {
        return (int) Math.round(canaryPercent * Buckets.COUNT / 100.0);
    }

    private static Assignment canary(RolloutPlan plan, int bucket) {
        int candidate = candidateBuckets(plan.canaryPercent());
        if (bucket < candidate) {
            return new Assignment(plan.candidate(), Arm.CANDIDATE, true, plan.baseline());
        }
        boolean control =
                candidate <= Buckets.COUNT / 2
                        ? bucket >= Buckets.COUNT / 2 && bucket < Buckets.COUNT / 2 + candidate
                        : true;
        return new Assignment(plan.baseline(), control ? Arm.CONTROL : Arm.BASELINE, true, null);
    }

    private static Assignment ab(RolloutPlan plan, int bucket) {
        List<RolloutPlan.Variant> variants = plan.variants();
        double total = 0;
        for (RolloutPlan.Variant v : variants) {
            total += v.weight();
        }
        double cumulative = 0;
        for (int i = 0; i < variants.size(); i++) {
            cumulative += variants.get(i).weight();
            long upper =
                    i == variants.size() - 1
                            ? Buckets.COUNT
                            : Math.round(cumulative / total * Buckets.COUNT);
            if (bucket < upper) {
                return i == 0
                        ? new Assignment(variants.get(0).version(), Arm.CONTROL, true, null)
                        : new Assignment(
                                variants.get(i).version(),
                                Arm.CANDIDATE,
                                true,
                                variants.get(0).version());
            }
        }
        throw new IllegalStateException("bucket " + bucket + " outside [0, " + Buckets.COUNT + ")");
    }
}
