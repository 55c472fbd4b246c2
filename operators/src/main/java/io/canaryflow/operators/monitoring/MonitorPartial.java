package io.canaryflow.operators.monitoring;

/**
 * What the merge stage takes: a window partial from the scoring tasks or a count of what was routed
 * from the route operator (exactly one is set), so both reach the merge on one keyed stream.
 */
public record MonitorPartial(WindowPartial window, RoutedPartial routed) {
    public static MonitorPartial of(WindowPartial window) {
        return new MonitorPartial(window, null);
    }

    public static MonitorPartial of(RoutedPartial routed) {
        return new MonitorPartial(null, routed);
    }

    /** The merge's key. */
    public String experiment() {
        return window != null ? window.experiment() : routed.experiment();
    }
}
