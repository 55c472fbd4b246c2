package io.canaryflow.operators.decode;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.units.LabelSampling;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Splits the labels source's decoded records (see {@link LabelDecoder}, which runs in the source):
 * valid labels go on, every rejected one goes to {@link Outputs#DEAD_LETTERS} with its reason. A
 * label whose record names a unit that {@code labels.sample-rate} does not sample is dropped (its
 * prediction does not wait either). Counts {@code labelsDecoded}, {@code labelDeadLetters} and
 * {@code labelsUnsampled}.
 */
public class LabelDecodeFunction extends ProcessFunction<Decoded, Label> {
    private static final long serialVersionUID = 1L;

    private final LabelSampling sampling;
    private transient Counter decoded;
    private transient Counter rejected;
    private transient Counter unsampled;

    public LabelDecodeFunction() {
        this(LabelSampling.ALL);
    }

    public LabelDecodeFunction(LabelSampling sampling) {
        this.sampling = sampling;
    }

    @Override
    public void open(OpenContext openContext) {
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
        decoded = group.counter("labelsDecoded");
        rejected = group.counter("labelDeadLetters");
        unsampled = group.counter("labelsUnsampled");
    }

    @Override
    public void processElement(Decoded record, Context ctx, Collector<Label> out) {
        if (record.label() != null) {
            decoded.inc();
            Label label = record.label();
            if (label.unit() == 0 || sampling.sampled(label.unit())) {
                out.collect(label);
            } else {
                unsampled.inc();
            }
        } else {
            rejected.inc();
            ctx.output(Outputs.DEAD_LETTERS, record.deadLetter());
        }
    }
}
