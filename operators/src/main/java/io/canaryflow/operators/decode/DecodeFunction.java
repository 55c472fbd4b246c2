package io.canaryflow.operators.decode;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Reason;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Splits the features source's decoded records (see {@link FeatureEventDecoder}, which runs in the
 * source): valid events go on, every rejected record goes to {@link Outputs#DEAD_LETTERS} with its
 * reason. Counts {@code decoded} and {@code deadLetters} per {@code reason}.
 */
public class DecodeFunction extends ProcessFunction<Decoded, FeatureEvent> {
    private static final long serialVersionUID = 1L;

    private transient Counter decoded;
    private transient Map<Reason, Counter> rejected;

    @Override
    public void open(OpenContext openContext) {
        MetricGroup group = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
        decoded = group.counter("decoded");
        rejected = new EnumMap<>(Reason.class);
        for (Reason reason : Reason.values()) {
            rejected.put(reason, group.addGroup("reason", reason.name()).counter("deadLetters"));
        }
    }

    @Override
    public void processElement(Decoded record, Context ctx, Collector<FeatureEvent> out) {
        if (record.event() != null) {
            decoded.inc();
            out.collect(record.event());
        } else {
            rejected.get(record.deadLetter().reason()).inc();
            ctx.output(Outputs.DEAD_LETTERS, record.deadLetter());
        }
    }
}
