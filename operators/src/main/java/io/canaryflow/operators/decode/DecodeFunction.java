package io.canaryflow.operators.decode;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Decodes raw records into feature events; every rejected record goes to {@link
 * Outputs#DEAD_LETTERS} with its reason. Never throws for bad input, so bad records cannot restart
 * the job. Counts {@code decoded} and {@code deadLetters} per {@code reason}.
 */
public class DecodeFunction extends ProcessFunction<SourceRecord, FeatureEvent> {
    private static final long serialVersionUID = 1L;

    private final Map<String, ExperimentSchema> schemas;
    private final int maxRecordBytes;
    private transient FeatureEventDecoder decoder;
    private transient Counter decoded;
    private transient Map<Reason, Counter> rejected;

    public DecodeFunction(Map<String, ExperimentSchema> schemas, int maxRecordBytes) {
        this.schemas = Map.copyOf(schemas);
        this.maxRecordBytes = maxRecordBytes;
    }

    @Override
    public void open(OpenContext openContext) {
        decoder = new FeatureEventDecoder(schemas, maxRecordBytes);
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
        decoded = group.counter("decoded");
        rejected = new EnumMap<>(Reason.class);
        for (Reason reason : Reason.values()) {
            rejected.put(reason, group.addGroup("reason", reason.name()).counter("deadLetters"));
        }
    }

    @Override
    public void processElement(SourceRecord record, Context ctx, Collector<FeatureEvent> out) {
        DecodeResult<FeatureEvent> result =
                decoder.decode(record, ctx.timerService().currentProcessingTime());
        if (result instanceof DecodeResult.Valid<FeatureEvent> valid) {
            decoded.inc();
            out.collect(valid.value());
        } else {
            DecodeResult.Rejected<FeatureEvent> r = (DecodeResult.Rejected<FeatureEvent>) result;
            rejected.get(r.deadLetter().reason()).inc();
            ctx.output(Outputs.DEAD_LETTERS, r.deadLetter());
        }
    }
}
