package io.canaryflow.operators.routing;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.control.DecisionVerifier;
import io.canaryflow.operators.records.Arm;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.RoutedEvent;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.streaming.api.functions.co.BroadcastProcessFunction;
import org.apache.flink.util.Collector;

/**
 * Routes each event to the model versions of its experiment's current plan. Plans live in broadcast
 * state, keyed by experiment, and replace one another as they arrive on the plan stream (the plans
 * the judge decides, read back from the control topic). Until an experiment's first decided plan
 * arrives, the plan given at construction (from the job's configuration) applies; the configured
 * plan never replaces a decided one. Run it in a {@link RouteOperator}, which keeps the plans' time
 * out of the routed stream. Counts {@code routed} per {@code arm}.
 *
 * <p>A decided plan whose decision was not made after the newest decision routing follows for its
 * experiment (the judge makes an experiment's {@code decided_at} strictly increasing) is a copy of
 * an older, genuine decision and is refused: counted as {@code decisionsRefused} with reason {@code
 * REPLAYED} (by every route task, each of which sees every plan) and written once, by the first
 * task, as a dead letter.
 */
public class RouteFunction
        extends BroadcastProcessFunction<FeatureEvent, DecidedPlan, RoutedEvent> {
    private static final long serialVersionUID = 1L;

    /** Current plan per experiment. */
    public static final MapStateDescriptor<String, RolloutPlan> PLANS =
            new MapStateDescriptor<>(
                    "rollout-plans", Types.STRING, TypeInformation.of(RolloutPlan.class));

    /** The newest {@code decided_at} of the decisions routing follows, per experiment. */
    public static final MapStateDescriptor<String, Long> DECIDED_AT =
            new MapStateDescriptor<>("plans-decided-at", Types.STRING, Types.LONG);

    private final Map<String, RolloutPlan> initialPlans;
    private transient Router router;
    private transient Map<Arm, Counter> routed;
    private transient Counter replays;

    /** Where the route operator counts what is routed (null: not counted). */
    private transient RoutedCounts counts;

    public RouteFunction(Map<String, RolloutPlan> initialPlans) {
        this.initialPlans = Map.copyOf(initialPlans);
    }

    @Override
    public void open(OpenContext openContext) {
        router = new Router();
        routed = counters(getRuntimeContext().getMetricGroup());
        replays =
                getRuntimeContext()
                        .getMetricGroup()
                        .addGroup("canaryflow")
                        .addGroup("reason", "REPLAYED")
                        .counter("decisionsRefused");
    }

    @Override
    public void processElement(FeatureEvent event, ReadOnlyContext ctx, Collector<RoutedEvent> out)
            throws Exception {
        RolloutPlan plan = ctx.getBroadcastState(PLANS).get(event.experiment());
        if (plan == null) {
            plan = initialPlans.get(event.experiment());
        }
        if (plan == null) {
            ctx.output(Outputs.DEAD_LETTERS, noPlan(event, ctx.currentProcessingTime()));
            return;
        }
        route(router, routed, counts, plan, event, out);
    }

    /** Counts every routed event into {@code counts} from now on. */
    void countInto(RoutedCounts counts) {
        this.counts = counts;
    }

    private static DeadLetter noPlan(FeatureEvent event, long now) {
        return DeadLetter.of(
                event.source(),
                Reason.UNKNOWN_EXPERIMENT,
                String.format("experiment '%s' has no rollout plan", event.experiment()),
                event.eventId(),
                event.experiment(),
                now);
    }

    private static void route(
            Router router,
            Map<Arm, Counter> routed,
            RoutedCounts counts,
            RolloutPlan plan,
            FeatureEvent event,
            Collector<RoutedEvent> out) {
        int bucket = router.bucket(plan, event.unit());
        for (Router.Assignment a : Router.assign(plan, bucket)) {
            routed.get(a.arm()).inc();
            RoutedEvent e =
                    new RoutedEvent(
                            event,
                            plan.model(),
                            a.version(),
                            a.arm(),
                            a.served(),
                            a.fallback(),
                            plan.planId(),
                            bucket);
            if (counts != null) {
                counts.add(e);
            }
            out.collect(e);
        }
    }

    private static Map<Arm, Counter> counters(MetricGroup metrics) {
        MetricGroup group = metrics.addGroup("canaryflow");
        Map<Arm, Counter> routed = new EnumMap<>(Arm.class);
        for (Arm arm : Arm.values()) {
            routed.put(arm, group.addGroup("arm", arm.wireName()).counter("routed"));
        }
        return routed;
    }

    /**
     * Routing by the configured plans alone, for a job without a control topic (nothing can change
     * a plan): one input, no broadcast state.
     */
    public static final class ConfiguredPlans extends ProcessFunction<FeatureEvent, RoutedEvent> {
        private static final long serialVersionUID = 1L;

        private final Map<String, RolloutPlan> plans;
        private transient Router router;
        private transient Map<Arm, Counter> routed;

        public ConfiguredPlans(Map<String, RolloutPlan> plans) {
            this.plans = Map.copyOf(plans);
        }

        @Override
        public void open(OpenContext openContext) {
            router = new Router();
            routed = counters(getRuntimeContext().getMetricGroup());
        }

        @Override
        public void processElement(FeatureEvent event, Context ctx, Collector<RoutedEvent> out) {
            RolloutPlan plan = plans.get(event.experiment());
            if (plan == null) {
                ctx.output(
                        Outputs.DEAD_LETTERS,
                        noPlan(event, ctx.timerService().currentProcessingTime()));
                return;
            }
            route(router, routed, null, plan, event, out);
        }
    }

    @Override
    public void processBroadcastElement(
            DecidedPlan decided, Context ctx, Collector<RoutedEvent> out) throws Exception {
        RolloutPlan plan = decided.plan();
        String experiment = plan.experiment();
        DecisionVerifier.Outcome replay =
                DecisionVerifier.Replays.notAfter(
                        ctx.getBroadcastState(DECIDED_AT).get(experiment),
                        decided.decisionId(),
                        decided.decidedAt());
        if (!replay.accepted()) {
            replays.inc();
            if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
                ctx.output(
                        Outputs.DEAD_LETTERS,
                        DeadLetter.of(
                                decided.source(),
                                Reason.REPLAYED,
                                "decision: " + replay.detail(),
                                decided.decisionId(),
                                experiment,
                                ctx.currentProcessingTime()));
            }
            return;
        }
        ctx.getBroadcastState(DECIDED_AT).put(experiment, decided.decidedAt());
        RolloutPlan configured = initialPlans.get(experiment);
        if (configured != null
                && configured.planId().equals(plan.planId())
                && ctx.getBroadcastState(PLANS).contains(experiment)) {
            return; // the configured plan never overrides a plan decided since
        }
        ctx.getBroadcastState(PLANS).put(experiment, plan);
    }
}
