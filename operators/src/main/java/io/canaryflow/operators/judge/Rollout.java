package io.canaryflow.operators.judge;

import com.fasterxml.jackson.databind.JsonNode;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.records.ScoringFailure;
import io.canaryflow.operators.routing.RolloutPlan;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One experiment's rollout as the judge runs it, free of Flink: it takes the monitoring reports of
 * the compared arms, gathers them per judging window, cuts latencies at the latency guardrail's
 * bounds, judges each window when told it has ended ({@link Judge}), applies commands, and returns
 * each step (the plan before and after and the verdict) for the caller to emit. Its state lives in
 * a {@link Store}: Flink keyed state in the job, maps in tests.
 *
 * <p>A canary compares its candidate with the control cohort, a shadow its shadow with the served
 * baseline on the same events, a two-variant A/B test its second variant with its first.
 */
public final class Rollout {

    /** Where a rollout keeps its state between calls. */
    public interface Store {
        /** The plan routing follows, or null before any decision (the configured plan applies). */
        RolloutPlan plan() throws Exception;

        void plan(RolloutPlan plan) throws Exception;

        /** The judge's state, or null before its first decision. */
        JudgeState judge() throws Exception;

        void judge(JudgeState state) throws Exception;

        boolean paused() throws Exception;

        void paused(boolean paused) throws Exception;

        /** The arms of the monitoring window ending at {@code end} as reported so far, or null. */
        WindowArms window(long end) throws Exception;

        /** Keeps a window's arms; null forgets them. */
        void window(long end, WindowArms arms) throws Exception;

        /** The monitoring windows of a longer judging window gathered so far, or null. */
        WindowArms gathering() throws Exception;

        /** Keeps the gathered windows; null forgets them. */
        void gathering(WindowArms arms) throws Exception;

        /** The ends of the windows kept ({@link #window}), in any order. */
        List<Long> windowEnds() throws Exception;

        /**
         * How far time has passed: of the window reports ({@code labels} false) or of the label
         * reports (true); {@link Long#MIN_VALUE} before the first.
         */
        long through(boolean labels) throws Exception;

        void through(boolean labels, long end) throws Exception;

        /**
         * The end of the last window reported under a plan a command replaced ({@link #replace}):
         * reports of windows up to it are not evidence for the plan after; {@link Long#MIN_VALUE}
         * when no plan was replaced.
         */
        long replacedThrough() throws Exception;

        void replacedThrough(long end) throws Exception;

        /** Forgets a kept window that will not be judged (its plan was replaced). */
        default void forget(long end) throws Exception {
            window(end, null);
        }
    }

    /** A window judged (its end), and the step it led to, or null. */
    public record Judged(long end, Step step) {}

    /** A decision taken: the plan it applies to, the plan it leads to, and why. */
    public record Step(
            RolloutPlan before, RolloutPlan after, Verdict verdict, RolloutPolicy policy) {}

    /** What a command came to: a step, nothing to emit (null step), or a rejection. */
    public record Outcome(Step step, String rejection) {
        public static Outcome applied(Step step) {
            return new Outcome(step, null);
        }

        public static Outcome rejected(String why) {
            return new Outcome(null, why);
        }

        public boolean accepted() {
            return rejection == null;
        }
    }

    /**
     * A report taken into its window.
     *
     * @param candidate whether it was the candidate's (else the control's)
     * @param opened whether it opened its window: the caller ends the window when its time passes
     */
    public record Reported(boolean candidate, boolean opened) {}

    private final String experiment;
    private final RolloutPolicy configuredPolicy;
    private RolloutPlan plan;
    private final boolean labelsJoined;
    private final Store store;

    private Rollout(
            String experiment,
            RolloutPolicy configuredPolicy,
            RolloutPlan plan,
            Store store,
            boolean labelsJoined) {
        this.labelsJoined = labelsJoined;
        this.experiment = experiment;
        this.configuredPolicy = configuredPolicy;
        this.plan = plan;
        this.store = store;
    }

    /**
     * The rollout of a judged experiment, or null if the experiment is not judged (no configured
     * policy) or has no plan.
     */
    public static Rollout of(
            String experiment,
            RolloutPlan configuredPlan,
            RolloutPolicy configuredPolicy,
            Store store)
            throws Exception {
        return of(experiment, configuredPlan, configuredPolicy, store, true);
    }

    /**
     * As above; {@code labelsJoined} says whether the job joins labels at all: without, a {@code
     * label_error_rate} guardrail (one a command brought) has no labels to wait for.
     */
    public static Rollout of(
            String experiment,
            RolloutPlan configuredPlan,
            RolloutPolicy configuredPolicy,
            Store store,
            boolean labelsJoined)
            throws Exception {
        if (configuredPolicy == null) {
            return null;
        }
        RolloutPlan plan = store.plan();
        if (plan == null) {
            plan = configuredPlan;
        }
        return plan == null
                ? null
                : new Rollout(experiment, configuredPolicy, plan, store, labelsJoined);
    }

    /** The plan routing follows now. */
    public RolloutPlan plan() {
        return plan;
    }

    /**
     * Takes a monitoring report into its window; null if it is not of a compared arm, or if it is a
     * sliding window's that overlaps the windows judged: with sliding monitoring windows (each
     * report covering window / slide slides), the judge takes only the windows that start at a
     * multiple of their length — a tumbling partition of time — so that each scoring counts once.
     */
    public Reported report(MonitoringRecord r) throws Exception {
        long length = r.windowEnd() - r.windowStart();
        if (length > 0 && Math.floorMod(r.windowStart(), length) != 0) {
            return null;
        }
        if (r.windowEnd() <= store.replacedThrough()) {
            return null; // a window of the plan a command replaced: not this plan's evidence
        }
        boolean shadowMode = plan.mode() == RolloutPlan.Mode.SHADOW;
        boolean control =
                r.arm().equals(shadowMode ? "baseline" : "control")
                        && r.version().equals(plan.baseline());
        boolean candidate =
                r.arm().equals(shadowMode ? "shadow" : "candidate")
                        && r.version().equals(candidateVersion(plan));
        if (!control && !candidate) {
            return null;
        }
        if (r.labelReport()) {
            if (!judgesLabels(judge().policy())
                    || (store.window(r.windowEnd()) == null
                            && r.windowEnd() <= store.through(false)
                            && r.windowEnd() <= store.through(true))) {
                // judged without waiting for labels (no use for them), or its window was
                // judged already (before the rollout took a label guardrail)
                return null;
            }
            // Label outcomes come on the label join's time, after their window's report: they
            // are added to their own window, which waits for them (see labelsThrough).
            WindowArms arms = store.window(r.windowEnd());
            boolean opened = arms == null;
            if (opened) {
                arms = WindowArms.empty(r.windowStart());
            }
            ArmCounts counts =
                    ArmCounts.NONE.withLabels(
                            r.labels().joined(), r.labels().misclassified(), r.labelUnits());
            store.window(
                    r.windowEnd(),
                    control
                            ? arms.plusControl(counts, null, null)
                            : arms.plusCandidate(counts, 0, null, null));
            return new Reported(candidate, opened);
        }
        WindowArms arms = store.window(r.windowEnd());
        boolean opened = arms == null;
        if (opened) {
            arms = WindowArms.empty(r.windowStart());
        }
        ArmCounts counts = counts(r);
        store.window(
                r.windowEnd(),
                control
                        ? arms.plusControl(counts, r.latency(), r.latencyUnits())
                        : arms.plusCandidate(
                                counts,
                                r.errors().failures()[ScoringFailure.UNAVAILABLE.ordinal()],
                                r.latency(),
                                r.latencyUnits()));
        return new Reported(candidate, opened);
    }

    /** A window report's counts as the judge compares them (labels come in label reports). */
    static ArmCounts counts(MonitoringRecord r) {
        return new ArmCounts(
                r.errors().attempts(),
                r.errors().attempts() - r.count() + r.errors().timeouts(),
                0,
                0,
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
                null,
                null,
                r.pairUnits(),
                0, // not cut yet: WindowArms.cutAt counts them
                r.errors().lost());
    }

    /**
     * The window reports' time passed {@code end}: the windows that are now complete are judged, in
     * order. A rollout with a {@code label_error_rate} guardrail judges a window only once its
     * label outcomes are complete too ({@link #labelsThrough}): its decisions wait for the labels'
     * time, so every run decides on the same evidence; any other rollout judges on the window
     * reports alone and never waits for labels.
     */
    public List<Judged> windowEnded(long end) throws Exception {
        if (end > store.through(false)) {
            store.through(false, end);
        }
        return judgeComplete();
    }

    /** The label reports of every window up to {@code end} have come (see {@link #windowEnded}). */
    public List<Judged> labelsThrough(long end) throws Exception {
        if (end > store.through(true)) {
            store.through(true, end);
        }
        return judgeComplete();
    }

    private List<Judged> judgeComplete() throws Exception {
        long complete =
                labelsJoined && judgesLabels(judge().policy())
                        ? Math.min(store.through(false), store.through(true))
                        : store.through(false);
        List<Long> ends = new ArrayList<>(store.windowEnds());
        ends.removeIf(e -> e == Long.MIN_VALUE || e > complete);
        java.util.Collections.sort(ends);
        List<Judged> judged = new ArrayList<>();
        for (long end : ends) {
            judged.add(new Judged(end, judgeWindow(end)));
        }
        return judged;
    }

    static boolean judgesLabels(RolloutPolicy policy) {
        for (Guardrail g : policy.guardrails()) {
            if (g.metric() == Guardrail.Metric.LABEL_ERROR_RATE) {
                return true;
            }
        }
        return false;
    }

    /**
     * Judges the complete monitoring window ending at {@code end}, or the judging window it
     * completes. Null when there is nothing to decide: no reports, paused, a judging window still
     * gathering, or a verdict-less window.
     */
    private Step judgeWindow(long end) throws Exception {
        WindowArms arms = store.window(end);
        store.window(end, null);
        if (arms == null || store.paused()) {
            return null;
        }
        Judge judge = judge();
        Guardrail latency = latencyGuardrail(judge.policy());
        if (latency != null) {
            arms = arms.cutAt(latency.ratio());
        }
        // a judging window longer than the monitoring window: judge the windows it spans together
        WindowArms gathered = store.gathering();
        if (gathered != null) {
            arms = gathered.then(arms);
        }
        if (end - arms.start() < judge.policy().windowMillis()) {
            store.gathering(arms);
            return null;
        }
        store.gathering(null);
        Verdict v =
                judge.judge(
                        new Evidence(
                                arms.start(),
                                end,
                                arms.control(),
                                arms.candidate(),
                                candidateShare(plan),
                                arms.candidateLoadable()));
        return v == null ? null : step(judge, PlanTransitions.after(plan, v), v);
    }

    /** PAUSE: windows end without judging until a RESUME or a new plan. */
    public Outcome pause() throws Exception {
        store.paused(true);
        return Outcome.applied(null);
    }

    /**
     * RESUME: windows are judged again; a rollout waiting since an INCONCLUSIVE step may move on,
     * its maximum durations counted afresh.
     */
    public Outcome resume() throws Exception {
        store.paused(false);
        JudgeState state = store.judge();
        if (state != null && state.awaiting()) {
            Judge judge = Judge.restore(state);
            judge.resume();
            store.judge(judge.state());
        }
        return Outcome.applied(null);
    }

    /** ABORT ({@code ROLLBACK}) or PROMOTE at once, unless the rollout has ended. */
    public Outcome override(Verdict.Action action, long at, String reason) throws Exception {
        Judge judge = judge();
        if (judge.done()) {
            return Outcome.rejected("the rollout of '" + experiment + "' has already ended");
        }
        Verdict v = judge.override(action, at, reason);
        return Outcome.applied(step(judge, PlanTransitions.after(plan, v), v));
    }

    /**
     * START or SET_PLAN: the plan replaces the current one and a fresh judge starts on it, with the
     * policy its fields give ({@link #policyFields}) or the configured one when it has none, and on
     * its own evidence: the windows reported so far (gathered into a judging window, or waiting for
     * their labels) were the plan before's.
     *
     * @param planJson the command's plan, its routing decoded as {@code next}
     */
    public Outcome replace(RolloutPlan next, JsonNode planJson, long at, String reason)
            throws Exception {
        RolloutPolicy policy;
        try {
            Map<String, String> fields = policyFields(planJson);
            policy =
                    fields.isEmpty() ? configuredPolicy : RolloutPolicy.fromFields(fields, "plan.");
        } catch (IllegalArgumentException e) {
            return Outcome.rejected(e.getMessage());
        }
        if (next.mode() == RolloutPlan.Mode.AB && next.variants().size() != 2) {
            return Outcome.rejected("only two-variant A/B tests are judged");
        }
        // a policy the command brings must suit its plan; the configured one was checked at start
        // against the configured mode, and still judges the canary a passed shadow becomes
        List<String> mismatch =
                policy == configuredPolicy ? List.of() : policy.problemsFor(next.mode(), "plan.");
        if (!mismatch.isEmpty()) {
            return Outcome.rejected(String.join("; ", mismatch));
        }
        if (!next.experiment().equals(experiment)) {
            return Outcome.rejected("the plan is for another experiment");
        }
        Judge fresh = fresh(next, policy);
        store.paused(false);
        // the fresh judge starts on the new plan's evidence: the windows reported, gathered or
        // waiting for labels under the plan before are forgotten, and their late reports ignored
        long replaced =
                Math.max(
                        Math.max(store.replacedThrough(), store.through(false)),
                        store.through(true));
        for (long end : store.windowEnds()) {
            replaced = Math.max(replaced, end);
            store.forget(end);
        }
        store.gathering(null);
        store.replacedThrough(replaced);
        Verdict v =
                new Verdict(
                        Verdict.Action.HOLD,
                        false, // a command's plan applies; its policy may judge dry
                        plan.canaryPercent(),
                        next.canaryPercent(),
                        at,
                        at,
                        ArmCounts.NONE,
                        ArmCounts.NONE,
                        null,
                        List.of(),
                        List.of(reason),
                        false,
                        false);
        return Outcome.applied(step(fresh, next, v));
    }

    /**
     * A plan's policy fields (snake_case: {@code schedule}, {@code min_step_duration}, {@code
     * min_samples}, {@code guardrails}, {@code alpha}, {@code srm_p}, {@code fail_limit}, {@code
     * dry_run}, {@code window}, {@code max_step_duration}, {@code max_duration}, {@code
     * timeout_action}) as {@link RolloutPolicy#fromFields} reads them; arrays joined by commas.
     */
    public static Map<String, String> policyFields(JsonNode plan) {
        Map<String, String> fields = new HashMap<>();
        for (String field : RolloutPolicy.FIELDS) {
            JsonNode v = plan.get(field.replace('-', '_'));
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
        return fields;
    }

    private Step step(Judge judge, RolloutPlan after, Verdict v) throws Exception {
        store.judge(judge.state());
        store.plan(after);
        RolloutPlan before = plan;
        plan = after; // a later window judged in the same call starts from here
        return new Step(before, after, v, judge.policy());
    }

    private Judge judge() throws Exception {
        JudgeState state = store.judge();
        return state != null ? Judge.restore(state) : fresh(plan, configuredPolicy);
    }

    private static Judge fresh(RolloutPlan plan, RolloutPolicy policy) {
        return switch (plan.mode()) {
            case SHADOW -> Judge.forShadow(policy);
            case AB -> Judge.forAb(policy);
            case CANARY -> new Judge(policy, plan.canaryPercent());
        };
    }

    private static Guardrail latencyGuardrail(RolloutPolicy policy) {
        return policy.guardrails().stream()
                .filter(g -> g.metric() == Guardrail.Metric.LATENCY_P99_RATIO)
                .findFirst()
                .orElse(null);
    }

    /** The version judged as the candidate: an A/B test's second variant. */
    static String candidateVersion(RolloutPlan plan) {
        return plan.mode() == RolloutPlan.Mode.AB
                ? plan.variants().get(1).version()
                : plan.candidate();
    }

    /**
     * The candidate's expected share of control + candidate traffic: half for a canary's symmetric
     * cohorts and a shadow's pairs, the weights' share for an A/B test.
     */
    static double candidateShare(RolloutPlan plan) {
        if (plan.mode() != RolloutPlan.Mode.AB) {
            return 0.5;
        }
        double control = plan.variants().get(0).weight();
        double candidate = plan.variants().get(1).weight();
        return candidate / (control + candidate);
    }
}
