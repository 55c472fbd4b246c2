package io.canaryflow.operators.records;

/**
 * A feature event with the model version that is to score it.
 *
 * @param served false for shadow scoring
 * @param fallbackVersion the version that serves the event if {@code version} cannot be loaded (the
 *     plan's baseline), or null when there is none (the event is for the baseline itself)
 * @param bucket the unit's bucket under the plan's salt, 0..9999
 */
public record RoutedEvent(
        FeatureEvent event,
        String model,
        String version,
        Arm arm,
        boolean served,
        String fallbackVersion,
        String planId,
        int bucket) {}
