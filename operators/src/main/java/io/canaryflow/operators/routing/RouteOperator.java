package io.canaryflow.operators.routing;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.monitoring.RoutedPartial;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.RoutedEvent;
import java.util.List;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithNonKeyedOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Runs {@link RouteFunction} on features (first input) and broadcast plans (second input), with the
 * routed stream's event time the features' alone. Plans are control data: their watermarks and
 * idleness are ignored, and the second input counts as idle from the start, so the output watermark
 * is exactly the features' — a finished or silent plan stream never releases it (Flink would
 * otherwise forward the minimum of the active inputs, which is the plans' {@code Long.MAX_VALUE}
 * whenever the features are idle, making every later event late), and never holds it back.
 */
public class RouteOperator
        extends CoBroadcastWithNonKeyedOperator<FeatureEvent, DecidedPlan, RoutedEvent> {
    private static final long serialVersionUID = 1L;

    /** The monitoring bucket's length, ms; 0: routing is not counted. */
    private final long bucketMillis;

    private transient RoutedCounts counts;

    public RouteOperator(RouteFunction function) {
        this(function, 0);
    }

    /** Counting what is routed per bucket of {@code bucketMillis} (the monitoring slide). */
    public RouteOperator(RouteFunction function, long bucketMillis) {
        super(function, List.of(RouteFunction.PLANS, RouteFunction.DECIDED_AT));
        this.bucketMillis = bucketMillis;
    }

    @Override
    public void open() throws Exception {
        super.open();
        combinedWatermark.updateStatus(1, true);
        if (bucketMillis > 0) {
            counts = new RoutedCounts(bucketMillis);
            ((RouteFunction) userFunction).countInto(counts);
        }
    }

    @Override
    public void processWatermark1(Watermark mark) throws Exception {
        if (counts != null) {
            emit(counts.passed(mark.getTimestamp()));
        }
        super.processWatermark1(mark);
    }

    @Override
    public void processWatermark2(Watermark mark) {}

    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int index) throws Exception {
        if (index == 0) {
            if (counts != null && status.isIdle()) {
                // from now on this task no longer holds the merge back: hand everything on
                emit(counts.all());
            }
            super.processWatermarkStatus(status, index);
        }
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        if (counts != null) {
            emit(counts.all());
        }
        super.prepareSnapshotPreBarrier(checkpointId);
    }

    @Override
    public void finish() throws Exception {
        if (counts != null) {
            emit(counts.all());
        }
        super.finish();
    }

    private void emit(List<RoutedPartial> partials) {
        for (RoutedPartial p : partials) {
            output.collect(Outputs.ROUTED, new StreamRecord<>(p, p.windowEnd() - 1));
        }
    }
}
