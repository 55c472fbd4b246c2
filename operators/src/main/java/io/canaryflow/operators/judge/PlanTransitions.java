package io.canaryflow.operators.judge;

import io.canaryflow.modelloader.Checksums;
import io.canaryflow.operators.routing.RolloutPlan;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The routing plan a decision leads to. Ramps only add buckets (a higher canary percent keeps every
 * unit's bucket, so no unit leaves the candidate); a rollback sets the candidate's share to 0 and
 * changes the salt, so the next rollout of this experiment starts from a fresh assignment; a
 * promotion makes the candidate the baseline. A shadow experiment's ADVANCE starts a canary; its
 * promotion (a command, or its timeout action) serves the candidate to everyone and its rollback
 * ends the shadow scoring: neither leaves a shadow. A two-variant A/B test ends with its candidate
 * (PROMOTE) or its control (ROLLBACK) serving everyone. Plan ids are derived from the previous id
 * and the change, so a replay derives the same ids.
 */
public final class PlanTransitions {
    private PlanTransitions() {}

    public static RolloutPlan after(RolloutPlan plan, Verdict v) {
        if (v.dryRun()) {
            return plan;
        }
        if (plan.mode() == RolloutPlan.Mode.AB
                && (v.action() == Verdict.Action.PROMOTE
                        || v.action() == Verdict.Action.ROLLBACK)) {
            // an A/B test ends with one variant serving everyone: the candidate or the control
            String control = plan.variants().get(0).version();
            String candidate = plan.variants().get(1).version();
            boolean promote = v.action() == Verdict.Action.PROMOTE;
            return new RolloutPlan(
                    id(plan, promote ? "promote" : "rollback"),
                    plan.experiment(),
                    plan.model(),
                    RolloutPlan.Mode.CANARY,
                    promote ? plan.salt() : plan.salt() + "-r" + hash(plan, "salt").substring(0, 8),
                    promote ? candidate : control,
                    candidate,
                    0,
                    List.of());
        }
        return switch (v.action()) {
            case ADVANCE -> withPercent(plan, v.stepTo());
            case PROMOTE ->
                    new RolloutPlan(
                            id(plan, "promote"),
                            plan.experiment(),
                            plan.model(),
                            canary(plan),
                            plan.salt(),
                            plan.candidate(),
                            plan.candidate(),
                            0,
                            plan.variants());
            case ROLLBACK ->
                    new RolloutPlan(
                            id(plan, "rollback"),
                            plan.experiment(),
                            plan.model(),
                            canary(plan),
                            plan.salt() + "-r" + hash(plan, "salt").substring(0, 8),
                            plan.baseline(),
                            plan.candidate(),
                            0,
                            plan.variants());
            default -> plan;
        };
    }

    /** A shadow plan goes on (or ends) as a canary; the other modes stay. */
    private static RolloutPlan.Mode canary(RolloutPlan plan) {
        return plan.mode() == RolloutPlan.Mode.SHADOW ? RolloutPlan.Mode.CANARY : plan.mode();
    }

    static RolloutPlan withPercent(RolloutPlan plan, double percent) {
        return new RolloutPlan(
                id(plan, "percent=" + percent),
                plan.experiment(),
                plan.model(),
                canary(plan),
                plan.salt(),
                plan.baseline(),
                plan.candidate(),
                percent,
                plan.variants());
    }

    /** {@code <experiment>-<12 hex of SHA-256(previous id, change)>}. */
    static String id(RolloutPlan plan, String change) {
        return plan.experiment() + "-" + hash(plan, change).substring(0, 12);
    }

    private static String hash(RolloutPlan plan, String change) {
        return Checksums.sha256Hex(
                (plan.planId() + "\n" + change).getBytes(StandardCharsets.UTF_8));
    }
}
