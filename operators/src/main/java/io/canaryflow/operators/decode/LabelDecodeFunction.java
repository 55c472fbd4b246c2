package io.canaryflow.operators.decode;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.records.SourceRecord;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Decodes raw label records; every rejected one goes to {@link Outputs#DEAD_LETTERS} with its
 * reason, never a job restart. Counts {@code labelsDecoded} and {@code labelDeadLetters}.
 */
public class LabelDecodeFunction extends ProcessFunction<SourceRecord, Label> {
    private static final long serialVersionUID = 1L;

    private final int maxRecordBytes;
    private transient LabelDecoder decoder;
    private transient Counter decoded;
    private transient Counter rejected;

    public LabelDecodeFunction(int maxRecordBytes) {
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void open(OpenContext openContext) {
        decoder = new LabelDecoder(maxRecordBytes);
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
        decoded = group.counter("labelsDecoded");
        rejected = group.counter("labelDeadLetters");
    }

    @Override
    public void processElement(SourceRecord record, Context ctx, Collector<Label> out) {
        DecodeResult<Label> result =
                decoder.decode(record, ctx.timerService().currentProcessingTime());
        if (result instanceof DecodeResult.Valid<Label> valid) {
            decoded.inc();
            out.collect(valid.value());
        } else {
            rejected.inc();
            ctx.output(Outputs.DEAD_LETTERS, ((DecodeResult.Rejected<Label>) result).deadLetter());
        }
    }
}
