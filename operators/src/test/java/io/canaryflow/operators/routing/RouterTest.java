package io.canaryflow.operators.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.canaryflow.operators.records.Arm;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RouterTest {
    static RolloutPlan canary(double percent) {
        return new RolloutPlan(
                "p1", "fraud", "fraud", RolloutPlan.Mode.CANARY, "salt", "v1", "v2", percent, null);
    }

    static Map<Arm, Integer> countArms(RolloutPlan plan) {
        Map<Arm, Integer> counts = new EnumMap<>(Arm.class);
        for (int b = 0; b < Buckets.COUNT; b++) {
            for (Router.Assignment a : Router.assign(plan, b)) {
                counts.merge(a.arm(), 1, Integer::sum);
            }
        }
        return counts;
    }

    @Test
    void shouldGiveCanaryAndSymmetricControlCohortExactlyTheirShareOfBuckets() {
        Map<Arm, Integer> counts = countArms(canary(5));
        assertThat(counts)
                .containsEntry(Arm.CANDIDATE, 500)
                .containsEntry(Arm.CONTROL, 500)
                .containsEntry(Arm.BASELINE, 9000);
        assertThat(Router.assign(canary(5), 4999).get(0).arm()).isEqualTo(Arm.BASELINE);
        assertThat(Router.assign(canary(5), 5000).get(0).arm()).isEqualTo(Arm.CONTROL);
        assertThat(Router.assign(canary(5), 5499).get(0).arm()).isEqualTo(Arm.CONTROL);
        assertThat(Router.assign(canary(5), 5500).get(0).arm()).isEqualTo(Arm.BASELINE);
        assertThat(Router.assign(canary(5), 499).get(0))
                .isEqualTo(new Router.Assignment("v2", Arm.CANDIDATE, true, "v1"));
    }

    @Test
    void shouldOnlyAddBucketsToCandidateWhileRamping() {
        double[] ramp = {1, 5, 10, 25, 50, 100};
        for (int i = 1; i < ramp.length; i++) {
            for (int b = 0; b < Buckets.COUNT; b++) {
                if (Router.assign(canary(ramp[i - 1]), b).get(0).arm() == Arm.CANDIDATE) {
                    assertThat(Router.assign(canary(ramp[i]), b).get(0).arm())
                            .isEqualTo(Arm.CANDIDATE);
                }
            }
        }
    }

    @Test
    void shouldMakeEveryNonCandidateBucketControlAboveHalf() {
        Map<Arm, Integer> counts = countArms(canary(75));
        assertThat(counts).containsEntry(Arm.CANDIDATE, 7500).containsEntry(Arm.CONTROL, 2500);
        assertThat(countArms(canary(100))).containsOnlyKeys(Arm.CANDIDATE);
        assertThat(countArms(canary(0))).containsOnlyKeys(Arm.BASELINE);
    }

    @Test
    void shouldSplitAbBucketsByWeight() {
        RolloutPlan plan =
                new RolloutPlan(
                        "p2",
                        "fraud",
                        "fraud",
                        RolloutPlan.Mode.AB,
                        "s",
                        null,
                        null,
                        0,
                        List.of(
                                new RolloutPlan.Variant("v1", 2),
                                new RolloutPlan.Variant("v2", 1),
                                new RolloutPlan.Variant("v3", 1)));
        int[] counts = new int[3];
        for (int b = 0; b < Buckets.COUNT; b++) {
            Router.Assignment a = Router.assign(plan, b).get(0);
            counts[Integer.parseInt(a.version().substring(1)) - 1]++;
            assertThat(a.arm()).isEqualTo(a.version().equals("v1") ? Arm.CONTROL : Arm.CANDIDATE);
        }
        assertThat(counts).containsExactly(5000, 2500, 2500);
        assertThat(plan.baseline()).isEqualTo("v1");
    }

    @Test
    void shouldScoreEveryEventTwiceInShadowModeServingOnlyTheBaseline() {
        RolloutPlan plan =
                new RolloutPlan(
                        "p3", "fraud", "fraud", RolloutPlan.Mode.SHADOW, "s", "v1", "v2", 0, null);
        assertThat(Router.assign(plan, 1234))
                .containsExactly(
                        new Router.Assignment("v1", Arm.BASELINE, true, null),
                        new Router.Assignment("v2", Arm.SHADOW, false, null));
    }

    @Test
    void shouldRejectInvalidPlansNamingTheField() {
        assertThatThrownBy(() -> canary(101))
                .hasMessageContaining("canary-percent must be within [0, 100]");
        assertThatThrownBy(
                        () ->
                                new RolloutPlan(
                                        "p",
                                        "fraud",
                                        "fraud",
                                        RolloutPlan.Mode.CANARY,
                                        "s",
                                        "v1",
                                        null,
                                        5,
                                        null))
                .hasMessageContaining("candidate is required");
        assertThatThrownBy(
                        () ->
                                new RolloutPlan(
                                        "p",
                                        "fraud",
                                        "fraud",
                                        RolloutPlan.Mode.AB,
                                        "s",
                                        null,
                                        null,
                                        0,
                                        List.of(
                                                new RolloutPlan.Variant("v1", 1),
                                                new RolloutPlan.Variant("v2", 0))))
                .hasMessageContaining("variant 'v2' needs a weight > 0");
    }
}
