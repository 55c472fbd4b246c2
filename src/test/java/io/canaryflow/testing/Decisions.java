package io.canaryflow.testing;

import io.canaryflow.operators.control.ControlCodec;
import io.canaryflow.operators.control.Decision;
import io.canaryflow.operators.judge.ArmCounts;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.records.JsonWriter;
import io.canaryflow.operators.routing.RolloutPlan;
import java.util.List;

/** Decisions as the job writes them, for tests of what reads the control topic. */
public final class Decisions {
    private Decisions() {}

    public static RolloutPlan plan(String id, String baseline, String candidate, double percent) {
        return new RolloutPlan(
                id,
                "fraud",
                "fraud",
                RolloutPlan.Mode.CANARY,
                "salt",
                baseline,
                candidate,
                percent,
                List.of());
    }

    public static byte[] decision(
            String id,
            Verdict.Action action,
            boolean dryRun,
            RolloutPlan before,
            RolloutPlan after) {
        return decision(id, action, dryRun, before, after, 3_000);
    }

    /** A decision decided at {@code decidedAt} (epoch milliseconds). */
    public static byte[] decision(
            String id,
            Verdict.Action action,
            boolean dryRun,
            RolloutPlan before,
            RolloutPlan after,
            long decidedAt) {
        Verdict v =
                new Verdict(
                        action,
                        dryRun,
                        before.canaryPercent(),
                        after.canaryPercent(),
                        1_000,
                        2_000,
                        ArmCounts.builder().attempts(100).errors(1).build(),
                        ArmCounts.builder().attempts(100).errors(9).build(),
                        null,
                        List.of(),
                        List.of("because"),
                        false,
                        false);
        return ControlCodec.write(
                new Decision(
                        id, null, after.experiment(), before, after, "hash", v, decidedAt, null),
                new JsonWriter());
    }
}
