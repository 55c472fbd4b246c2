package io.canaryflow.operators.monitoring;

/**
 * What the merge stage takes: a window partial from the scoring tasks or a label partial from the
 * label join (exactly one is set), so both reach the merge on one keyed stream.
 */
public record MonitorPartial(WindowPartial window, LabelPartial labels) {
    public static MonitorPartial of(WindowPartial window) {
        return new MonitorPartial(window, null);
    }

    public static MonitorPartial of(LabelPartial labels) {
        return new MonitorPartial(null, labels);
    }

    /** The merge's key. */
    public String experiment() {
        return window != null ? window.experiment() : labels.experiment();
    }
}
