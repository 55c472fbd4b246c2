package io.canaryflow.operators.control;

import io.canaryflow.modelloader.Checksums;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.routing.RolloutPlan;
import java.nio.charset.StandardCharsets;

/**
 * A judge's decision as published on the control topic: the verdict with its full evidence, the
 * plan routing follows from now on, and the ids that chain an experiment's decisions.
 *
 * @param decisionId deterministic: the same window judged from the same state gets the same id, so
 *     a replay after a failure re-emits the ids it emitted before
 * @param previousDecisionId the experiment's previous decision, or null for its first
 * @param planBefore the plan the window's traffic was routed under
 * @param plan the plan after the decision (unchanged for HOLD, UNHEALTHY, NO_DATA and dry runs)
 * @param configHash hash of the rollout policy in force
 * @param decidedAt processing time, epoch milliseconds (its Kafka timestamp); strictly increasing
 *     per experiment (at least the previous decision's + 1 ms, whatever the host's clock), so a
 *     reader refuses any decision not later than the newest it followed as a replay
 * @param drift the candidate's drift in the judged window, or null when not known
 */
public record Decision(
        String decisionId,
        String previousDecisionId,
        String experiment,
        RolloutPlan planBefore,
        RolloutPlan plan,
        String configHash,
        Verdict verdict,
        long decidedAt,
        DriftSummary drift) {

    /**
     * The candidate's drift in the judged window, from its monitoring report.
     *
     * @param scorePsiVersusControl PSI of its score against the control cohort's (NaN if unknown)
     * @param mostDriftedFeature the feature with the highest PSI against the manifest reference
     */
    public record DriftSummary(
            double scorePsiVersusControl,
            String scoreLevel,
            String mostDriftedFeature,
            double featurePsi,
            String featureLevel)
            implements java.io.Serializable {}

    /** {@code d-} and the first 24 hex digits of SHA-256 over what identifies the decision. */
    public static String id(
            String experiment,
            String previous,
            String planBefore,
            long windowEnd,
            Verdict.Action a) {
        String text =
                String.join(
                        "\n",
                        experiment,
                        previous == null ? "" : previous,
                        planBefore,
                        Long.toString(windowEnd),
                        a.name());
        return "d-" + Checksums.sha256Hex(text.getBytes(StandardCharsets.UTF_8)).substring(0, 24);
    }
}
