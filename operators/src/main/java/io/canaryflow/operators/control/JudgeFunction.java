package io.canaryflow.operators.control;

import io.canaryflow.modelloader.Checksums;
import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.judge.ArmCounts;
import io.canaryflow.operators.judge.Evidence;
import io.canaryflow.operators.judge.Guardrail;
import io.canaryflow.operators.judge.Judge;
import io.canaryflow.operators.judge.JudgeState;
import io.canaryflow.operators.judge.PlanTransitions;
import io.canaryflow.operators.judge.RolloutPolicy;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.latency.LatencyHistogram;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.routing.RolloutPlan;
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
 * The rollout judge of each canary or shadow experiment (keyed by experiment): collects the
 * monitoring reports of the compared arms per window (a canary's control cohort and candidate; a
 * shadow's served baseline and shadow, paired on the same events), judges each window when the
 * watermark passes its end (see {@link Judge}), and emits a {@link Decision} with its evidence and
 * the plan routing follows from then on. Decisions chain by id per experiment and are
 * deterministic, so a replay after a failure emits the same ids.
 *
 * <p>Commands (second input) are checked first ({@link CommandCheck}: signature, age, replay);
 * rejected ones become dead letters with their reason and are counted ({@code commandsRejected} per
 * {@code reason}). Accepted: PAUSE stops judging, RESUME resumes, ABORT rolls back and PROMOTE
 * promotes at once, START and SET_PLAN replace the plan (its {@code plan}: a routing plan) and
 * restart the judge on it.
 *
 * <p>Gauges per experiment: {@code candidatePercent}, {@code lastAction} (ordinal of {@link
 * Verdict.Action}), and per guardrail {@code delta}, {@code upper} and {@code threshold}.
 */
public class JudgeFunction
        extends KeyedCoProcessFunction<String, MonitoringRecord, SignedCommand, Decision> {
    private static final long serialVersionUID = 1L;

    /** The arms of one window the judge compares. */
    public record WindowArms(
            long start,
            ArmCounts control,
            ArmCounts candidate,
            long unavailable,
            LatencyHistogram.Sparse controlLatency,
            LatencyHistogram.Sparse candidateLatency) {}

    private final Map<String, RolloutPlan> initialPlans;
    private final Map<String, RolloutPolicy> policies;
    private final byte[] key;
    private final long maxCommandAgeMillis;

    private transient ValueState<JudgeState> judgeState;

    /** The judge as earlier versions kept it (Java-serialized), read once and then cleared. */
    private transient ValueState<byte[]> legacyJudge;

    private transient ValueState<RolloutPlan> planState;
    private transient ValueState<String> lastDecision;
    private transient ValueState<Boolean> paused;
    private transient MapState<Long, WindowArms> windows;
    private transient MapState<String, Long> seenCommands;
    private transient MapState<Long, Decision.DriftSummary> drift;
    private transient ValueState<WindowArms> gathering;
    private transient CommandCheck check;
    private transient Map<Reason, Counter> rejected;
    private transient Counter accepted;
    private transient Map<String, double[]> gauges;
    private transient MetricGroup metrics;

    /**
     * @param policies the judged experiments (canary mode) and how to judge them
     * @param key the HMAC key commands are signed with
     */
    public JudgeFunction(
            Map<String, RolloutPlan> initialPlans,
            Map<String, RolloutPolicy> policies,
            byte[] key,
            long maxCommandAgeMillis) {
        this.initialPlans = Map.copyOf(initialPlans);
        this.policies = Map.copyOf(policies);
        this.key = key.clone();
        this.maxCommandAgeMillis = maxCommandAgeMillis;
    }

    @Override
    public void open(OpenContext openContext) {
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
        paused = getRuntimeContext().getState(new ValueStateDescriptor<>("paused", Types.BOOLEAN));
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
    }

    @Override
    public void processElement1(MonitoringRecord r, Context ctx, Collector<Decision> out)
            throws Exception {
        RolloutPlan plan = plan(r.experiment());
        if (plan == null || !policies.containsKey(r.experiment())) {
            return;
        }
        boolean shadowMode = plan.mode() == RolloutPlan.Mode.SHADOW;
        // a canary compares its candidate with the control cohort; a shadow with the served
        // baseline on the same events; a two-variant A/B test its second variant with its first
        boolean control =
                r.arm().equals(shadowMode ? "baseline" : "control")
                        && r.version().equals(plan.baseline());
        boolean candidate =
                r.arm().equals(shadowMode ? "shadow" : "candidate")
                        && r.version().equals(candidateVersion(plan));
        if (!control && !candidate) {
            return;
        }
        ArmCounts counts =
                new ArmCounts(
                        r.errors().attempts(),
                        r.errors().attempts() - r.count() + r.errors().timeouts(),
                        r.labels() == null ? 0 : r.labels().joined(),
                        r.labels() == null ? 0 : r.labels().misclassified(),
                        r.count(),
                        0,
                        r.scoreMoments() == null ? 0 : r.scoreMoments()[0],
                        r.scoreMoments() == null ? 0 : r.scoreMoments()[1],
                        r.paired() == null ? 0 : r.paired().pairs(),
                        r.paired() == null ? 0 : r.paired().flipsUp() + r.paired().flipsDown(),
                        r.sharedScoreCounts() == null ? new long[0] : r.sharedScoreCounts(),
                        r.activeUnits(),
                        r.units(),
                        0,
                        r.labelUnits());
        if (candidate) {
            drift.put(r.windowEnd(), summary(r));
        }
        WindowArms arms = windows.get(r.windowEnd());
        if (arms == null) {
            arms = new WindowArms(r.windowStart(), ArmCounts.NONE, ArmCounts.NONE, 0, null, null);
            ctx.timerService().registerEventTimeTimer(r.windowEnd() - 1);
        }
        long unavailable =
                r.errors()
                        .failures()[
                        io.canaryflow.operators.records.ScoringFailure.UNAVAILABLE.ordinal()];
        windows.put(
                r.windowEnd(),
                control
                        ? new WindowArms(
                                arms.start(),
                                arms.control().plus(counts),
                                arms.candidate(),
                                arms.unavailable(),
                                merge(arms.controlLatency(), r.latency()),
                                arms.candidateLatency())
                        : new WindowArms(
                                arms.start(),
                                arms.control(),
                                arms.candidate().plus(counts),
                                arms.unavailable() + unavailable,
                                arms.controlLatency(),
                                merge(arms.candidateLatency(), r.latency())));
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

    /** The version judged as the candidate: an A/B test's second variant. */
    private static String candidateVersion(RolloutPlan plan) {
        return plan.mode() == RolloutPlan.Mode.AB
                ? plan.variants().get(1).version()
                : plan.candidate();
    }

    /**
     * The candidate's expected share of control + candidate traffic: half for a canary's symmetric
     * cohorts and a shadow's pairs, the weights' share for an A/B test.
     */
    private static double candidateShare(RolloutPlan plan) {
        if (plan.mode() != RolloutPlan.Mode.AB) {
            return 0.5;
        }
        double control = plan.variants().get(0).weight();
        double candidate = plan.variants().get(1).weight();
        return candidate / (control + candidate);
    }

    private static LatencyHistogram.Sparse merge(
            LatencyHistogram.Sparse a, LatencyHistogram.Sparse b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        LatencyHistogram h = LatencyHistogram.fromSparse(a);
        h.merge(LatencyHistogram.fromSparse(b));
        return h.toSparse();
    }

    /**
     * The arms' counts with their scorings slower than the latency guardrail's cut: its ratio times
     * the control's p99 in this window (no latency counts without such a guardrail).
     */
    private static WindowArms withLatency(WindowArms arms, RolloutPolicy policy) {
        Guardrail latency =
                policy.guardrails().stream()
                        .filter(g -> g.metric() == Guardrail.Metric.LATENCY_P99_RATIO)
                        .findFirst()
                        .orElse(null);
        if (latency == null || arms.controlLatency() == null || arms.candidateLatency() == null) {
            return arms;
        }
        LatencyHistogram control = LatencyHistogram.fromSparse(arms.controlLatency());
        LatencyHistogram candidate = LatencyHistogram.fromSparse(arms.candidateLatency());
        if (control.count() == 0) {
            return arms;
        }
        // the control's p99 is itself estimated: harm is counted above the ratio times its upper
        // 99 % confidence bound, a pass above the ratio times its lower one
        double half = 2.576 * Math.sqrt(0.99 * 0.01 / control.count());
        double high = latency.ratio() * control.percentile(Math.min(0.99999, 0.99 + half));
        double low = latency.ratio() * control.percentile(Math.max(0.5, 0.99 - half));
        ArmCounts c = arms.control();
        ArmCounts k = arms.candidate();
        return new WindowArms(
                arms.start(),
                new ArmCounts(
                        c.attempts(),
                        c.errors(),
                        c.labelled(),
                        c.labelErrors(),
                        control.count(),
                        control.countAbove(high),
                        c.scoreSum(),
                        c.scoreSumSquares(),
                        c.pairs(),
                        c.flips(),
                        c.scoreBins(),
                        c.activeUnits(),
                        c.units(),
                        control.countAbove(low),
                        c.labelUnits()),
                new ArmCounts(
                        k.attempts(),
                        k.errors(),
                        k.labelled(),
                        k.labelErrors(),
                        candidate.count(),
                        candidate.countAbove(high),
                        k.scoreSum(),
                        k.scoreSumSquares(),
                        k.pairs(),
                        k.flips(),
                        k.scoreBins(),
                        k.activeUnits(),
                        k.units(),
                        candidate.countAbove(low),
                        k.labelUnits()),
                arms.unavailable(),
                arms.controlLatency(),
                arms.candidateLatency());
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<Decision> out)
            throws Exception {
        long end = timestamp + 1;
        WindowArms arms = windows.get(end);
        windows.remove(end);
        Decision.DriftSummary windowDrift = drift.get(end);
        drift.remove(end);
        String experiment = ctx.getCurrentKey();
        if (arms == null || Boolean.TRUE.equals(paused.value())) {
            return;
        }
        RolloutPlan plan = plan(experiment);
        Judge judge = judge(experiment, plan);
        arms = withLatency(arms, judge.policy());
        // A judging window longer than the monitoring window: judge the windows it spans together.
        WindowArms gathered = gathering.value();
        if (gathered != null) {
            arms =
                    new WindowArms(
                            gathered.start(),
                            gathered.control().plus(arms.control()),
                            gathered.candidate().plus(arms.candidate()),
                            gathered.unavailable() + arms.unavailable(),
                            arms.controlLatency(),
                            arms.candidateLatency());
        }
        if (end - arms.start() < judge.policy().windowMillis()) {
            gathering.update(arms);
            return;
        }
        gathering.clear();
        boolean loadable =
                !(arms.candidate().attempts() > 0
                        && arms.unavailable() == arms.candidate().attempts());
        Verdict v =
                judge.judge(
                        new Evidence(
                                arms.start(),
                                end,
                                arms.control(),
                                arms.candidate(),
                                candidateShare(plan),
                                loadable));
        if (v != null) {
            save(judge);
            emitWithPlan(
                    experiment,
                    plan,
                    PlanTransitions.after(plan, v),
                    v,
                    ctx.timerService().currentProcessingTime(),
                    out,
                    judge.policy(),
                    windowDrift);
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
        RolloutPlan plan = plan(experiment);
        if (plan == null || !policies.containsKey(experiment)) {
            reject(
                    in,
                    Reason.REJECTED_COMMAND,
                    "experiment '" + experiment + "' is not a judged canary of this job",
                    now,
                    ctx);
            return;
        }
        String who = String.format("command %s from %s", c.commandId(), c.issuedBy());
        switch (c.action()) {
            case PAUSE -> paused.update(true);
            case RESUME -> paused.update(false);
            case ABORT, PROMOTE -> {
                Judge judge = judge(experiment, plan);
                if (judge.done()) {
                    reject(
                            in,
                            Reason.REJECTED_COMMAND,
                            "the rollout of '" + experiment + "' has already ended",
                            now,
                            ctx);
                    return;
                }
                Verdict.Action action =
                        c.action() == Command.Action.ABORT
                                ? Verdict.Action.ROLLBACK
                                : Verdict.Action.PROMOTE;
                Verdict v =
                        judge.override(
                                action,
                                c.issuedAt(),
                                (c.action() == Command.Action.ABORT ? "aborted" : "promoted")
                                        + " by "
                                        + who);
                emit(experiment, plan, judge, v, now, out);
            }
            case START, SET_PLAN -> {
                RolloutPlan next;
                RolloutPolicy policy;
                try {
                    com.fasterxml.jackson.databind.JsonNode json =
                            ControlCodec.tree(
                                    c.plan() == null
                                            ? new byte[0]
                                            : c.plan().getBytes(StandardCharsets.UTF_8));
                    next = ControlCodec.plan(json);
                    policy = policy(json, experiment);
                } catch (ControlCodec.MalformedException | IllegalArgumentException e) {
                    reject(in, Reason.REJECTED_COMMAND, e.getMessage(), now, ctx);
                    return;
                }
                if (next.mode() == RolloutPlan.Mode.AB && next.variants().size() != 2) {
                    reject(
                            in,
                            Reason.REJECTED_COMMAND,
                            "only two-variant A/B tests are judged",
                            now,
                            ctx);
                    return;
                }
                if (!next.experiment().equals(experiment)) {
                    reject(
                            in,
                            Reason.REJECTED_COMMAND,
                            "the plan is for another experiment",
                            now,
                            ctx);
                    return;
                }
                Judge fresh =
                        switch (next.mode()) {
                            case SHADOW -> Judge.forShadow(policy);
                            case AB -> Judge.forAb(policy);
                            case CANARY -> new Judge(policy, next.canaryPercent());
                        };
                paused.update(false);
                Verdict v =
                        new Verdict(
                                Verdict.Action.HOLD,
                                false, // a command's plan applies; its policy may judge dry
                                plan.canaryPercent(),
                                next.canaryPercent(),
                                c.issuedAt(),
                                c.issuedAt(),
                                ArmCounts.NONE,
                                ArmCounts.NONE,
                                null,
                                List.of(),
                                List.of("plan " + next.planId() + " set by " + who));
                save(fresh);
                emitWithPlan(experiment, plan, next, v, now, out, policy, null);
            }
        }
        accepted.inc(); // only commands that applied: every rejection has returned
    }

    private void emit(
            String experiment,
            RolloutPlan plan,
            Judge judge,
            Verdict v,
            long now,
            Collector<Decision> out)
            throws Exception {
        save(judge);
        emitWithPlan(
                experiment,
                plan,
                PlanTransitions.after(plan, v),
                v,
                now,
                out,
                judge.policy(),
                null);
    }

    private void emitWithPlan(
            String experiment,
            RolloutPlan before,
            RolloutPlan after,
            Verdict v,
            long now,
            Collector<Decision> out,
            RolloutPolicy policy,
            Decision.DriftSummary windowDrift)
            throws Exception {
        String previous = lastDecision.value();
        String id = Decision.id(experiment, previous, before.planId(), v.windowEnd(), v.action());
        planState.update(after);
        lastDecision.update(id);
        out.collect(
                new Decision(
                        id,
                        previous,
                        experiment,
                        before,
                        after,
                        configHash(policy),
                        v,
                        now,
                        windowDrift));
        publish(experiment, after, v);
    }

    private static String configHash(RolloutPolicy policy) {
        return Checksums.sha256Hex(policy.toString().getBytes(StandardCharsets.UTF_8))
                .substring(0, 16);
    }

    /**
     * The policy a START or SET_PLAN brings: its plan's policy fields (snake_case: {@code
     * schedule}, {@code min_step_duration}, {@code min_samples}, {@code guardrails}, {@code alpha},
     * {@code srm_p}, {@code fail_limit}, {@code dry_run}, {@code window}, {@code
     * max_step_duration}, {@code max_duration}, {@code timeout_action}), or the configured policy
     * when it has none.
     */
    private RolloutPolicy policy(com.fasterxml.jackson.databind.JsonNode plan, String experiment) {
        Map<String, String> fields = new HashMap<>();
        for (String field : RolloutPolicy.FIELDS) {
            com.fasterxml.jackson.databind.JsonNode v = plan.get(field.replace('-', '_'));
            if (v == null || v.isNull()) {
                continue;
            }
            if (v.isArray()) {
                List<String> items = new ArrayList<>();
                v.forEach(item -> items.add(item.asText()));
                fields.put(field, String.join(",", items));
            } else {
                fields.put(field, v.asText());
            }
        }
        return fields.isEmpty()
                ? policies.get(experiment)
                : RolloutPolicy.fromFields(fields, "plan.");
    }

    private void publish(String experiment, RolloutPlan plan, Verdict v) {
        double[] values =
                gauges.computeIfAbsent(
                        experiment,
                        e -> {
                            double[] g = new double[2 + 3 * v.guardrails().size()];
                            MetricGroup group = metrics.addGroup("experiment", e);
                            group.gauge("candidatePercent", () -> g[0]);
                            group.gauge("lastAction", () -> g[1]);
                            for (int i = 0; i < v.guardrails().size(); i++) {
                                int k = 2 + 3 * i;
                                MetricGroup gr =
                                        group.addGroup(
                                                "guardrail",
                                                v.guardrails()
                                                        .get(i)
                                                        .guardrail()
                                                        .metric()
                                                        .wireName());
                                gr.gauge("delta", () -> g[k]);
                                gr.gauge("upper", () -> g[k + 1]);
                                gr.gauge("threshold", () -> g[k + 2]);
                            }
                            return g;
                        });
        values[0] = plan.canaryPercent();
        values[1] = v.action().ordinal();
        for (int i = 0; i < v.guardrails().size() && 2 + 3 * i + 2 < values.length; i++) {
            Verdict.GuardrailResult g = v.guardrails().get(i);
            values[2 + 3 * i] = g.delta();
            values[3 + 3 * i] = g.upper();
            values[4 + 3 * i] = g.guardrail().threshold();
        }
    }

    private RolloutPlan plan(String experiment) throws IOException {
        RolloutPlan plan = planState.value();
        return plan != null ? plan : initialPlans.get(experiment);
    }

    private Judge judge(String experiment, RolloutPlan plan) throws IOException {
        JudgeState state = judgeState.value();
        if (state != null) {
            return Judge.restore(state);
        }
        byte[] bytes = legacyJudge.value();
        if (bytes == null) {
            return switch (plan.mode()) {
                case SHADOW -> Judge.forShadow(policies.get(experiment));
                case AB -> Judge.forAb(policies.get(experiment));
                case CANARY -> new Judge(policies.get(experiment), plan.canaryPercent());
            };
        }
        // a savepoint of a version that Java-serialized the judge: read it once, keep it typed
        Judge judge;
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            judge = ((Judge) in.readObject()).repairedAfterLegacyRestore();
        } catch (ClassNotFoundException | java.io.InvalidClassException e) {
            throw new IOException("cannot restore the judge's state of an older version", e);
        }
        legacyJudge.clear();
        save(judge);
        return judge;
    }

    private void save(Judge judge) throws IOException {
        judgeState.update(judge.state());
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
