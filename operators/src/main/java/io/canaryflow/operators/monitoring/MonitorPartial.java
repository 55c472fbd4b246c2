package io.canaryflow.operators.monitoring;

/**
 * What the merge stage takes: a window partial from the scoring tasks, a label partial from the
 * label join or a count of what was routed from the route operator (exactly one is set), so all
 * reach the merge on one keyed stream.
 */
public record MonitorPartial(WindowPartial window, LabelPartial labels, RoutedPartial routed) {
    public static MonitorPartial of(WindowPartial window) {
        return new MonitorPartial(window, null, null);
    }

    public static MonitorPartial of(LabelPartial labels) {
        return new MonitorPartial(null, labels, null);
    }

    public static MonitorPartial of(RoutedPartial routed) {
        return new MonitorPartial(null, null, routed);
    }

    /** The merge's key. */
    public String experiment() {
        return window != null
                ? window.experiment()
                : labels != null ? labels.experiment() : routed.experiment();
    }
}
