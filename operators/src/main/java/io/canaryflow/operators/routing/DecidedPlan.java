package io.canaryflow.operators.routing;

import io.canaryflow.operators.records.SourceRecord;
import java.io.Serializable;

/**
 * A plan as decided by the judge and read back, verified, from the control topic: the router
 * follows it unless it is older than a plan it already follows (a replay).
 *
 * @param decidedAt the decision's {@code decided_at}, epoch milliseconds
 * @param source the decision's record, for a dead letter if it is refused
 */
public record DecidedPlan(RolloutPlan plan, String decisionId, long decidedAt, SourceRecord source)
        implements Serializable {}
