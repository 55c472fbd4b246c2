package io.canaryflow.operators.monitoring;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.drift.DriftMeasures;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Second stage of monitoring, keyed by window: adds up the partials of every subtask and, when the
 * watermark passes the window's end, reports the window's drift, counts and latency.
 */
public class WindowMergeFunction
        extends KeyedProcessFunction<String, WindowPartial, MonitoringRecord> {
    private static final long serialVersionUID = 1L;

    private final ModelRepository repository;
    private final Map<String, ExperimentSchema> schemas;
    private final DriftMeasures.Thresholds thresholds;

    private transient ValueState<WindowPartial> merged;
    private transient MonitorReferences references;

    public WindowMergeFunction(
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            DriftMeasures.Thresholds thresholds) {
        this.repository = repository;
        this.schemas = Map.copyOf(schemas);
        this.thresholds = thresholds;
    }

    @Override
    public void open(OpenContext openContext) {
        merged =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "window", TypeInformation.of(WindowPartial.class)));
        references = new MonitorReferences(repository, schemas);
    }

    @Override
    public void processElement(WindowPartial partial, Context ctx, Collector<MonitoringRecord> out)
            throws Exception {
        WindowPartial current = merged.value();
        merged.update(current == null ? partial : current.plus(partial));
        if (current == null) {
            ctx.timerService().registerEventTimeTimer(partial.windowEnd() - 1);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<MonitoringRecord> out)
            throws Exception {
        WindowPartial window = merged.value();
        merged.clear(); // the window is final: keep no state for it
        if (window == null) {
            return;
        }
        MonitorReferences.Version v =
                references.of(window.experiment(), window.model(), window.version());
        if (v != null) {
            out.collect(WindowAggregate.report(window, v, thresholds));
        }
    }
}
