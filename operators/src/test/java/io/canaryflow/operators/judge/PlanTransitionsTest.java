package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.routing.RolloutPlan;
import io.canaryflow.operators.routing.Router;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The plan a shadow experiment's decisions lead to: never a shadow of what serves. */
class PlanTransitionsTest {
    static final RolloutPlan SHADOW =
            new RolloutPlan(
                    "p0", "fraud", "fraud", RolloutPlan.Mode.SHADOW, "s", "v1", "v2", 0, null);

    static Verdict verdict(Verdict.Action action) {
        ArmCounts none = ArmCounts.builder().build();
        return new Verdict(
                action, false, 0, 100, 0, 1_000, none, none, null, List.of(), List.of(), false,
                false);
    }

    /**
     * A promoted shadow (by command, or by its timeout action) serves its candidate to everyone,
     * scored once per event: not the candidate served and scored again as its own shadow.
     */
    @Test
    void shouldEndTheShadowScoringWhenAShadowIsPromoted() {
        RolloutPlan promoted = PlanTransitions.after(SHADOW, verdict(Verdict.Action.PROMOTE));
        assertThat(promoted.mode()).isEqualTo(RolloutPlan.Mode.CANARY);
        assertThat(promoted.baseline()).isEqualTo("v2");
        for (int bucket = 0; bucket < 10_000; bucket += 97) {
            assertThat(Router.assign(promoted, bucket))
                    .singleElement()
                    .satisfies(
                            a -> {
                                assertThat(a.version()).isEqualTo("v2");
                                assertThat(a.served()).isTrue();
                                assertThat(a.arm()).isNotEqualTo(Arm.SHADOW);
                            });
        }
    }

    /** Its rollback ends the shadow scoring with the baseline serving everyone. */
    @Test
    void shouldEndTheShadowScoringWhenAShadowIsRolledBack() {
        RolloutPlan rolledBack = PlanTransitions.after(SHADOW, verdict(Verdict.Action.ROLLBACK));
        assertThat(rolledBack.mode()).isEqualTo(RolloutPlan.Mode.CANARY);
        assertThat(Router.assign(rolledBack, 0))
                .singleElement()
                .satisfies(a -> assertThat(a.version()).isEqualTo("v1"));
    }
}
