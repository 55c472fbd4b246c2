package io.canaryflow.operators.decode;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.records.Label;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Splits the labels source's decoded records (see {@link LabelDecoder}, which runs in the source):
 * valid labels go on, every rejected one goes to {@link Outputs#DEAD_LETTERS} with its reason.
 * Counts {@code labelsDecoded} and {@code labelDeadLetters}.
 */
public class LabelDecodeFunction extends ProcessFunction<Decoded, Label> {
    private static final long serialVersionUID = 1L;

    private transient Counter decoded;
    private transient Counter rejected;

    @Override
    public void open(OpenContext openContext) {
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
        decoded = group.counter("labelsDecoded");
        rejected = group.counter("labelDeadLetters");
    }

    @Override
    public void processElement(Decoded record, Context ctx, Collector<Label> out) {
        if (record.label() != null) {
            decoded.inc();
            out.collect(record.label());
        } else {
            rejected.inc();
            ctx.output(Outputs.DEAD_LETTERS, record.deadLetter());
        }
    }
}
