package io.canaryflow.operators.control;

import io.canaryflow.modelloader.Checksums;
import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.judge.ArmCounts;
import io.canaryflow.operators.judge.Judge;
import io.canaryflow.operators.judge.JudgeState;
import io.canaryflow.operators.judge.Rollout;
import io.canaryflow.operators.judge.RolloutPolicy;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.latency.LatencyHistogram;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.routing.RolloutPlan;
import io.canaryflow.operators.units.LatencySketch;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The rollout judge of each canary or shadow experiment (keyed by experiment), as a Flink function:
 * the judging itself is {@link Rollout}'s (reports gathered per window, latency cuts, verdicts,
 * commands applied), on this function's keyed state; this function checks commands, sets a timer at
 * each window's end (the watermark passing it ends the window), and emits each step as a {@link
 * Decision} with its evidence, the plan routing follows from then on, and the window's drift
 * summary. Decisions chain by id per experiment and are deterministic, so a replay after a failure
 * emits the same ids.
 *
 * <p>Commands (second input) are checked first ({@link CommandCheck}: signature, age, replay);
 * rejected ones become dead letters with their reason and are counted ({@code commandsRejected} per
 * {@code reason}). Accepted: PAUSE stops judging, RESUME resumes, ABORT rolls back and PROMOTE
 * promotes at once, START and SET_PLAN replace the plan (its {@code plan}: a routing plan) and
 * restart the judge on it.
 *
 * <p>Gauges per experiment: {@code candidatePercent}, {@code lastAction} (ordinal of {@link
 * Verdict.Action}), {@code awaitingPerson} (1 while the rollout waits for a person since an
 * INCONCLUSIVE step, else 0), and per guardrail {@code delta}, {@code upper} and {@code threshold}.
 * Counter per experiment and {@code action}: {@code decisions} (every judged experiment's, from 0
 * at start; a replay after a failure counts its decisions again).
 */
public class JudgeFunction
        extends KeyedCoProcessFunction<String, MonitoringRecord, SignedCommand, Decision> {
    private static final long serialVersionUID = 1L;

    /**
     * The state form of {@link io.canaryflow.operators.judge.WindowArms} (states {@code windows}
     * and {@code gathering}): kept under this name, which savepoints record.
     */
    public record WindowArms(
            long start,
            ArmCounts control,
            ArmCounts candidate,
            long unavailable,
            LatencyHistogram.Sparse controlLatency,
            LatencyHistogram.Sparse candidateLatency,
            LatencySketch controlLatencyUnits,
            LatencySketch candidateLatencyUnits) {

        static WindowArms of(io.canaryflow.operators.judge.WindowArms a) {
            return new WindowArms(
                    a.start(),
                    a.control(),
                    a.candidate(),
                    a.unavailable(),
                    a.controlLatency(),
                    a.candidateLatency(),
                    a.controlLatencyUnits(),
                    a.candidateLatencyUnits());
        }

        io.canaryflow.operators.judge.WindowArms toJudge() {
            return new io.canaryflow.operators.judge.WindowArms(
                    start,
                    control,
                    candidate,
                    unavailable,
                    controlLatency,
                    candidateLatency,
                    controlLatencyUnits,
                    candidateLatencyUnits);
        }
    }

    private final Map<String, RolloutPlan> initialPlans;
    private final Map<String, RolloutPolicy> policies;
    private final byte[] key;
    private final long maxCommandAgeMillis;

    private transient ValueState<JudgeState> judgeState;

    /** The judge as earlier versions kept it (Java-serialized), read once and then cleared. */
    private transient ValueState<byte[]> legacyJudge;

    private transient ValueState<RolloutPlan> planState;
    private transient ValueState<String> lastDecision;

    /** The experiment's last {@code decided_at}: each decision's is later (see {@link #emit}). */
    private transient ValueState<Long> lastDecidedAt;

    private transient ValueState<Boolean> pausedState;
    private transient MapState<Long, WindowArms> windows;
    private transient MapState<String, Long> seenCommands;
    private transient MapState<Long, Decision.DriftSummary> drift;
    private transient ValueState<WindowArms> gathering;
    private transient ValueState<Long> windowsThrough;
    private transient ValueState<Long> labelsThrough;
    private transient ValueState<Long> replacedThrough;
    private transient CommandCheck check;
    private transient Map<Reason, Counter> rejected;
    private transient Counter accepted;

    /** Gauge values per experiment, and per experiment and guardrail metric. */
    private transient Map<String, double[]> gauges;

    private transient Map<String, MetricGroup> experimentGroups;
    private transient MetricGroup metrics;
    private transient Rollout.Store store;
    private final boolean labelsJoined;

    /** Decisions per experiment and action ("experiment/ACTION"), counted as they are emitted. */
    private transient Map<String, Counter> decisions;

    /**
     * @param policies the judged experiments (canary mode) and how to judge them
     * @param key the HMAC key commands are signed with
     * @param labelsJoined whether the job joins labels (a rollout with a label guardrail then
     *     judges a window once its label reports are complete)
     */
    public JudgeFunction(
            Map<String, RolloutPlan> initialPlans,
            Map<String, RolloutPolicy> policies,
            byte[] key,
            long maxCommandAgeMillis,
            boolean labelsJoined) {
        this.labelsJoined = labelsJoined;
        this.initialPlans = Map.copyOf(initialPlans);
        this.policies = Map.copyOf(policies);
        this.key = key.clone();
        this.maxCommandAgeMillis = maxCommandAgeMillis;
    }

    @Override
    public void open(OpenContext openContext) {
        policies.values().stream()
                .mapToDouble(RolloutPolicy::alpha)
                .distinct()
                .forEach(Judge::prepareFinalLook);
        judgeState =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "judge-state", TypeInformation.of(JudgeState.class)));
        legacyJudge =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "judge",
                                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        planState =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "plan", TypeInformation.of(RolloutPlan.class)));
        lastDecision =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("last-decision", Types.STRING));
        lastDecidedAt =
                getRuntimeContext()
                        .getState(new ValueStateDescriptor<>("last-decided-at", Types.LONG));
        pausedState =
                getRuntimeContext().getState(new ValueStateDescriptor<>("paused", Types.BOOLEAN));
        windows =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "windows",
                                        Types.LONG,
                                        TypeInformation.of(WindowArms.class)));
        seenCommands =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "seen-commands", Types.STRING, Types.LONG));
        drift =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "drift",
                                        Types.LONG,
                                        TypeInformation.of(Decision.DriftSummary.class)));
        gathering =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "gathering", TypeInformation.of(WindowArms.class)));
        windowsThrough =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "windows-through",
                                        org.apache.flink.api.common.typeinfo.Types.LONG));
        labelsThrough =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "labels-through",
                                        org.apache.flink.api.common.typeinfo.Types.LONG));
        replacedThrough =
                getRuntimeContext()
                        .getState(
                                new ValueStateDescriptor<>(
                                        "replaced-through",
                                        org.apache.flink.api.common.typeinfo.Types.LONG));
        check = new CommandCheck(new CommandSigner(key), maxCommandAgeMillis);
        metrics = getRuntimeContext().getMetricGroup().addGroup("canaryflow");
        accepted = metrics.counter("commandsAccepted");
        rejected = new HashMap<>();
        for (Reason r :
                List.of(
                        Reason.UNSIGNED,
                        Reason.BAD_SIGNATURE,
                        Reason.STALE,
                        Reason.REPLAYED,
                        Reason.REJECTED_COMMAND)) {
            rejected.put(r, metrics.addGroup("reason", r.name()).counter("commandsRejected"));
        }
        gauges = new HashMap<>();
        experimentGroups = new HashMap<>();
        store = new KeyedStore();
        // every judged experiment's decision counters from the start, at 0: an alert on their
        // increase() sees the first rollback, which a series born at 1 would hide
        decisions = new HashMap<>();
        for (String experiment : policies.keySet()) {
            MetricGroup group = experimentGroup(experiment);
            for (Verdict.Action action : Verdict.Action.values()) {
                decisions.put(
                        experiment + "/" + action,
                        group.addGroup("action", action.name()).counter("decisions"));
            }
        }
    }

    @Override
    public void processElement1(MonitoringRecord r, Context ctx, Collector<Decision> out)
            throws Exception {
        if (r.labelsMark()) {
            Rollout rollout = rollout(r.experiment());
            if (rollout != null) {
                emitAll(
                        r.experiment(),
                        rollout.labelsThrough(r.windowEnd()),
                        ctx.timerService().currentProcessingTime(),
                        out);
            }
            return;
        }
        Rollout rollout = rollout(r.experiment());
        Rollout.Reported reported = rollout == null ? null : rollout.report(r);
        if (reported == null) {
            return;
        }
        if (reported.opened()) {
            ctx.timerService().registerEventTimeTimer(r.windowEnd() - 1);
        }
        if (reported.candidate() && !r.labelReport()) {
            drift.put(r.windowEnd(), summary(r));
        }
    }

    private static Decision.DriftSummary summary(MonitoringRecord r) {
        String feature = null;
        double psi = Double.NaN;
        String level = null;
        for (int i = 0; i < r.featureNames().length; i++) {
            double p = r.featureDrift()[i].psi();
            if (!Double.isNaN(p) && (Double.isNaN(psi) || p > psi)) {
                psi = p;
                feature = r.featureNames()[i];
                level = r.featureDrift()[i].level().name();
            }
        }
        return new Decision.DriftSummary(
                r.scoreVersusArm() == null ? Double.NaN : r.scoreVersusArm().psi(),
                r.scoreVersusArm() == null ? "UNKNOWN" : r.scoreVersusArm().level().name(),
                feature,
                psi,
                level);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Decision> out)
            throws Exception {
        long end = timestamp + 1;
        Rollout rollout = rollout(ctx.getCurrentKey());
        if (rollout == null) {
            windows.remove(end);
            drift.remove(end);
            return;
        }
        emitAll(
                ctx.getCurrentKey(),
                rollout.windowEnded(end),
                ctx.timerService().currentProcessingTime(),
                out);
    }

    /** Emits the steps of the windows judged, in order, each with its window's drift summary. */
    private void emitAll(
            String experiment, List<Rollout.Judged> judged, long now, Collector<Decision> out)
            throws Exception {
        for (Rollout.Judged j : judged) {
            Decision.DriftSummary windowDrift = drift.get(j.end());
            drift.remove(j.end());
            if (j.step() != null) {
                emit(experiment, j.step(), now, out, windowDrift);
            }
        }
    }

    @Override
    public void processElement2(SignedCommand in, Context ctx, Collector<Decision> out)
            throws Exception {
        Command c = in.command();
        long now = ctx.timerService().currentProcessingTime();
        CommandCheck.Outcome outcome = check.check(c, now, id -> contains(seenCommands, id));
        if (!outcome.accepted()) {
            reject(in, Reason.valueOf(outcome.rejection().name()), outcome.detail(), now, ctx);
            return;
        }
        seenCommands.put(c.commandId(), c.issuedAt());
        forgetOldCommands(now);
        String experiment = c.experiment();
        Rollout rollout = rollout(experiment);
        if (rollout == null) {
            reject(
                    in,
                    Reason.REJECTED_COMMAND,
                    "experiment '" + experiment + "' is not a judged canary of this job",
                    now,
                    ctx);
            return;
        }
        String who = String.format("command %s from %s", c.commandId(), c.issuedBy());
        Rollout.Outcome result =
                switch (c.action()) {
                    case PAUSE -> rollout.pause();
                    case RESUME -> rollout.resume();
                    case ABORT ->
                            rollout.override(
                                    Verdict.Action.ROLLBACK, c.issuedAt(), "aborted by " + who);
                    case PROMOTE ->
                            rollout.override(
                                    Verdict.Action.PROMOTE, c.issuedAt(), "promoted by " + who);
                    case START, SET_PLAN -> {
                        com.fasterxml.jackson.databind.JsonNode json;
                        RolloutPlan next;
                        try {
                            json =
                                    ControlCodec.tree(
                                            c.plan() == null
                                                    ? new byte[0]
                                                    : c.plan().getBytes(StandardCharsets.UTF_8));
                            next = ControlCodec.plan(json);
                        } catch (ControlCodec.MalformedException | IllegalArgumentException e) {
                            yield Rollout.Outcome.rejected(e.getMessage());
                        }
                        yield rollout.replace(
                                next,
                                json,
                                c.issuedAt(),
                                "plan " + next.planId() + " set by " + who);
                    }
                };
        if (!result.accepted()) {
            reject(in, Reason.REJECTED_COMMAND, result.rejection(), now, ctx);
            return;
        }
        if (result.step() != null) {
            emit(experiment, result.step(), now, out, null);
        }
        accepted.inc(); // only commands that applied: every rejection has returned
    }

    /** Emits a step as the next decision of the experiment's chain. */
    private void emit(
            String experiment,
            Rollout.Step step,
            long now,
            Collector<Decision> out,
            Decision.DriftSummary windowDrift)
            throws Exception {
        Verdict v = step.verdict();
        String previous = lastDecision.value();
        String id =
                Decision.id(
                        experiment, previous, step.before().planId(), v.windowEnd(), v.action());
        lastDecision.update(id);
        // An experiment's decided_at only grows, whatever the clocks of the hosts its judge ran
        // on: a reader refuses a decision not later than the newest it followed (a replay).
        Long last = lastDecidedAt.value();
        long decidedAt = last == null ? now : Math.max(now, last + 1);
        lastDecidedAt.update(decidedAt);
        out.collect(
                new Decision(
                        id,
                        previous,
                        experiment,
                        step.before(),
                        step.after(),
                        configHash(step.policy()),
                        v,
                        decidedAt,
                        windowDrift));
        publish(experiment, step.after(), v);
        Counter counter = decisions.get(experiment + "/" + v.action());
        if (counter != null) {
            counter.inc();
        }
    }

    private static String configHash(RolloutPolicy policy) {
        return Checksums.sha256Hex(policy.toString().getBytes(StandardCharsets.UTF_8))
                .substring(0, 16);
    }

    private void publish(String experiment, RolloutPlan plan, Verdict v) {
        double[] values =
                gauges.computeIfAbsent(
                        experiment,
                        e -> {
                            double[] g = new double[3];
                            MetricGroup group = experimentGroup(e);
                            group.gauge("candidatePercent", () -> g[0]);
                            group.gauge("lastAction", () -> g[1]);
                            group.gauge("awaitingPerson", () -> g[2]);
                            return g;
                        });
        values[0] = plan.canaryPercent();
        values[1] = v.action().ordinal();
        values[2] = v.awaiting() ? 1 : 0;
        // by metric, registered as each guardrail first reports: verdicts carry the guardrails
        // judged in their phase (a shadow's flip_rate, not the canary's after it), or none; a
        // metric no longer judged (after the shadow phase, or a new plan) reads NaN, not its last
        // value, so that no alert keeps seeing it
        if (!v.guardrails().isEmpty()) {
            java.util.Set<String> judged = new java.util.HashSet<>();
            for (Verdict.GuardrailResult g : v.guardrails()) {
                judged.add(experiment + '\u0000' + g.guardrail().metric().wireName());
            }
            gauges.forEach(
                    (key, d) -> {
                        if (key.startsWith(experiment + '\u0000') && !judged.contains(key)) {
                            java.util.Arrays.fill(d, Double.NaN);
                        }
                    });
        }
        for (Verdict.GuardrailResult g : v.guardrails()) {
            String metric = g.guardrail().metric().wireName();
            double[] r =
                    gauges.computeIfAbsent(
                            experiment + '\u0000' + metric,
                            k -> {
                                double[] d = new double[3];
                                MetricGroup gr =
                                        experimentGroup(experiment).addGroup("guardrail", metric);
                                gr.gauge("delta", () -> d[0]);
                                gr.gauge("upper", () -> d[1]);
                                gr.gauge("threshold", () -> d[2]);
                                return d;
                            });
            r[0] = g.delta();
            r[1] = g.upper();
            r[2] = g.guardrail().threshold();
        }
    }

    private MetricGroup experimentGroup(String experiment) {
        return experimentGroups.computeIfAbsent(experiment, e -> metrics.addGroup("experiment", e));
    }

    /** The experiment's rollout on this function's keyed state, or null if it is not judged. */
    private Rollout rollout(String experiment) throws Exception {
        return Rollout.of(
                experiment,
                initialPlans.get(experiment),
                policies.get(experiment),
                store,
                labelsJoined);
    }

    /** The rollout's state as Flink keyed state of the current experiment. */
    private final class KeyedStore implements Rollout.Store {
        @Override
        public RolloutPlan plan() throws IOException {
            return planState.value();
        }

        @Override
        public void plan(RolloutPlan plan) throws IOException {
            planState.update(plan);
        }

        @Override
        public JudgeState judge() throws IOException {
            JudgeState state = judgeState.value();
            byte[] bytes = state == null ? legacyJudge.value() : null;
            if (bytes == null) {
                return state;
            }
            // a savepoint of a version that Java-serialized the judge: read it once, keep it typed
            try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
                state = ((Judge) in.readObject()).repairedAfterLegacyRestore().state();
            } catch (ClassNotFoundException | java.io.InvalidClassException e) {
                throw new IOException("cannot restore the judge's state of an older version", e);
            }
            legacyJudge.clear();
            judgeState.update(state);
            return state;
        }

        @Override
        public void judge(JudgeState state) throws IOException {
            judgeState.update(state);
        }

        @Override
        public boolean paused() throws IOException {
            return Boolean.TRUE.equals(pausedState.value());
        }

        @Override
        public void paused(boolean value) throws IOException {
            pausedState.update(value);
        }

        @Override
        public io.canaryflow.operators.judge.WindowArms window(long end) throws Exception {
            WindowArms arms = windows.get(end);
            return arms == null ? null : arms.toJudge();
        }

        @Override
        public void window(long end, io.canaryflow.operators.judge.WindowArms arms)
                throws Exception {
            if (arms == null) {
                windows.remove(end);
            } else {
                windows.put(end, WindowArms.of(arms));
            }
        }

        /** A window a replaced plan forgot takes its drift summary along. */
        @Override
        public void forget(long end) throws Exception {
            windows.remove(end);
            drift.remove(end);
        }

        @Override
        public io.canaryflow.operators.judge.WindowArms gathering() throws IOException {
            WindowArms arms = gathering.value();
            return arms == null ? null : arms.toJudge();
        }

        @Override
        public void gathering(io.canaryflow.operators.judge.WindowArms arms) throws IOException {
            if (arms == null) {
                gathering.clear();
            } else {
                gathering.update(WindowArms.of(arms));
            }
        }

        @Override
        public List<Long> windowEnds() throws Exception {
            List<Long> ends = new ArrayList<>();
            windows.keys().forEach(ends::add);
            return ends;
        }

        @Override
        public long through(boolean labels) throws IOException {
            Long end = (labels ? labelsThrough : windowsThrough).value();
            return end == null ? Long.MIN_VALUE : end;
        }

        @Override
        public void through(boolean labels, long end) throws IOException {
            (labels ? labelsThrough : windowsThrough).update(end);
        }

        @Override
        public long replacedThrough() throws IOException {
            Long end = replacedThrough.value();
            return end == null ? Long.MIN_VALUE : end;
        }

        @Override
        public void replacedThrough(long end) throws IOException {
            replacedThrough.update(end);
        }
    }

    private void reject(SignedCommand in, Reason reason, String detail, long now, Context ctx) {
        rejected.get(reason).inc();
        ctx.output(
                Outputs.DEAD_LETTERS,
                DeadLetter.of(
                        in.source(),
                        reason,
                        detail,
                        in.command().commandId(),
                        in.command().experiment(),
                        now));
    }

    private static boolean contains(MapState<String, Long> state, String id) {
        try {
            return state.contains(id);
        } catch (Exception e) {
            throw new UncheckedIOException(new IOException(e));
        }
    }

    /** Ids of commands too old to pass the age check need not be remembered. */
    private void forgetOldCommands(long now) throws Exception {
        List<String> old = new ArrayList<>();
        for (Map.Entry<String, Long> e : seenCommands.entries()) {
            if (now - e.getValue() > 2 * maxCommandAgeMillis) {
                old.add(e.getKey());
            }
        }
        for (String id : old) {
            seenCommands.remove(id);
        }
    }
}
