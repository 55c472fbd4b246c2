package io.canaryflow.operators;

import io.canaryflow.operators.records.DeadLetter;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

/** Side outputs shared by the operators. */
public final class Outputs {
    /** Records that could not be processed, each with its reason; never dropped. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetter.class));

    /** What the route operator routed, per series and event-time bucket (see RoutedCounts). */
    public static final OutputTag<io.canaryflow.operators.monitoring.RoutedPartial> ROUTED =
            new OutputTag<>(
                    "routed",
                    TypeInformation.of(io.canaryflow.operators.monitoring.RoutedPartial.class));

    private Outputs() {}
}
