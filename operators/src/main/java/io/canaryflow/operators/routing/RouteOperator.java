package io.canaryflow.operators.routing;

import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.RoutedEvent;
import java.util.List;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithNonKeyedOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
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
        extends CoBroadcastWithNonKeyedOperator<FeatureEvent, RolloutPlan, RoutedEvent> {
    private static final long serialVersionUID = 1L;

    public RouteOperator(RouteFunction function) {
        super(function, List.of(RouteFunction.PLANS));
    }

    @Override
    public void open() throws Exception {
        super.open();
        combinedWatermark.updateStatus(1, true);
    }

    @Override
    public void processWatermark2(Watermark mark) {}

    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int index) throws Exception {
        if (index == 0) {
            super.processWatermarkStatus(status, index);
        }
    }
}
