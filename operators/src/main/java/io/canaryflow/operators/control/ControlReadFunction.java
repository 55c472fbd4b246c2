package io.canaryflow.operators.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import io.canaryflow.operators.routing.DecidedPlan;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Reads the control topic: commands go on (to be checked and applied by the {@link JudgeFunction});
 * a decision is verified ({@link DecisionVerifier}) and, when it changes routing, its plan goes to
 * {@link #PLANS} (for the router). A decision that is unsigned, signed by a key the job does not
 * trust, or whose signature does not verify never reaches the router: it is a dead letter with its
 * reason, counted as {@code decisionsRefused} per {@code reason}. A record that cannot be read is a
 * {@code MALFORMED} dead letter.
 */
public class ControlReadFunction extends ProcessFunction<ControlRecord, SignedCommand> {
    private static final long serialVersionUID = 1L;

    /** Plans decided by the judge, as read back (verified) from the control topic. */
    public static final OutputTag<DecidedPlan> PLANS =
            new OutputTag<>("decided-plans", TypeInformation.of(DecidedPlan.class));

    private final DecisionVerifier verifier;
    private final long unsignedBefore;
    private transient Map<DecisionVerifier.Rejection, Counter> refused;

    /** Following only decisions {@code verifier} verifies. */
    public ControlReadFunction(DecisionVerifier verifier) {
        this(verifier, Long.MIN_VALUE);
    }

    /**
     * @param verifier the keys of the job's own decisions
     * @param unsignedBefore an unsigned decision decided before this time (epoch milliseconds) is
     *     followed too: the decisions of a version that did not sign them, read back after an
     *     upgrade ({@code control.accept-unsigned-decisions-before}); {@code Long.MIN_VALUE}: none
     */
    public ControlReadFunction(DecisionVerifier verifier, long unsignedBefore) {
        this.verifier = verifier;
        this.unsignedBefore = unsignedBefore;
    }

    @Override
    public void open(OpenContext openContext) {
        refused = refusedCounters(getRuntimeContext().getMetricGroup());
    }

    /** {@code canaryflow.reason.<REASON>.decisionsRefused}, one counter per reason. */
    public static Map<DecisionVerifier.Rejection, Counter> refusedCounters(MetricGroup group) {
        Map<DecisionVerifier.Rejection, Counter> counters =
                new EnumMap<>(DecisionVerifier.Rejection.class);
        MetricGroup canaryflow = group.addGroup("canaryflow");
        for (DecisionVerifier.Rejection r : DecisionVerifier.Rejection.values()) {
            counters.put(r, canaryflow.addGroup("reason", r.name()).counter("decisionsRefused"));
        }
        return counters;
    }

    @Override
    public void processElement(ControlRecord in, Context ctx, Collector<SignedCommand> out) {
        SourceRecord record = in.source();
        try {
            JsonNode n = ControlCodec.tree(record.value());
            switch (ControlCodec.type(n)) {
                case "command" -> out.collect(new SignedCommand(ControlCodec.command(n), record));
                case "decision" -> {
                    DecisionVerifier.Outcome o =
                            verifier.check(record.value(), in.keyId(), in.signature());
                    if (o.rejection() == DecisionVerifier.Rejection.UNSIGNED
                            && n.path("decided_at").asLong(Long.MAX_VALUE) < unsignedBefore) {
                        o = DecisionVerifier.Outcome.ACCEPTED; // written before the upgrade
                    }
                    if (!o.accepted()) {
                        refused.get(o.rejection()).inc();
                        ctx.output(
                                Outputs.DEAD_LETTERS,
                                DeadLetter.of(
                                        record,
                                        Reason.valueOf(o.rejection().name()),
                                        "decision: " + o.detail(),
                                        n.path("decision_id").asText(null),
                                        n.path("experiment").asText(null),
                                        ctx.timerService().currentProcessingTime()));
                    } else if (!n.path("dry_run").asBoolean(false) && n.has("plan")) {
                        ctx.output(
                                PLANS,
                                new DecidedPlan(
                                        ControlCodec.plan(n.get("plan")),
                                        n.path("decision_id").asText(),
                                        n.path("decided_at").asLong(),
                                        record));
                    }
                }
                default ->
                        throw new ControlCodec.MalformedException(
                                "unknown control record type '" + n.get("type").asText() + "'");
            }
        } catch (ControlCodec.MalformedException e) {
            ctx.output(
                    Outputs.DEAD_LETTERS,
                    DeadLetter.of(
                            record,
                            Reason.MALFORMED,
                            "control record: " + e.getMessage(),
                            null,
                            null,
                            ctx.timerService().currentProcessingTime()));
        }
    }
}
