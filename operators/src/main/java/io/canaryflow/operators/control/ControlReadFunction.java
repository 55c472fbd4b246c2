package io.canaryflow.operators.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import io.canaryflow.operators.routing.RolloutPlan;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/**
 * Reads the control topic: commands go on (to be checked and applied by the {@link JudgeFunction}),
 * the plan of every decision that changes routing goes to {@link #PLANS} (for the router), and a
 * record that cannot be read is a {@code MALFORMED} dead letter.
 */
public class ControlReadFunction extends ProcessFunction<SourceRecord, SignedCommand> {
    private static final long serialVersionUID = 1L;

    /** Plans decided by the judge, as read back from the control topic. */
    public static final OutputTag<RolloutPlan> PLANS =
            new OutputTag<>("decided-plans", TypeInformation.of(RolloutPlan.class));

    @Override
    public void processElement(SourceRecord record, Context ctx, Collector<SignedCommand> out) {
        try {
            JsonNode n = ControlCodec.tree(record.value());
            switch (ControlCodec.type(n)) {
                case "command" -> out.collect(new SignedCommand(ControlCodec.command(n), record));
                case "decision" -> {
                    if (!n.path("dry_run").asBoolean(false) && n.has("plan")) {
                        ctx.output(PLANS, ControlCodec.plan(n.get("plan")));
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
