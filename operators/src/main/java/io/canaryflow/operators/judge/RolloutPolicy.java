package io.canaryflow.operators.judge;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;

/**
 * How a rollout is judged.
 *
 * @param schedule candidate traffic per step, percent, ascending; reaching 100 is the promotion
 * @param minStepMillis event time a step lasts at least before it may advance
 * @param minSamples observations each arm needs in a step (and per guardrail metric) first
 * @param alpha family-wise error of the guardrail tests over the whole rollout (Holm)
 * @param srmP a sample-ratio-mismatch p-value below this marks the window UNHEALTHY
 * @param failLimit failed windows in a row of non-critical guardrails that roll back
 * @param dryRun decide, but only say what would be done
 * @param windowMillis the judging window: the monitoring windows it spans are judged together (0:
 *     every monitoring window is judged; else a multiple of the monitoring window)
 * @param maxStepMillis event time a step may last at most: then the rollout ends with {@code
 *     timeoutAction}
 * @param maxRolloutMillis event time the whole rollout may last at most, the same way
 * @param timeoutAction what a rollout that reached a maximum duration without a decision does:
 *     INCONCLUSIVE (it says so and waits for a person, its harm still judged: {@code pause}),
 *     ROLLBACK or PROMOTE
 * @param advanceOn what moves a canary from one step to the next below the last: {@code NO_HARM}
 *     (no guardrail fails once the step's minimum time and samples are met), or {@code PASS} (every
 *     guardrail passes). The promotion always needs every guardrail to pass.
 */
public record RolloutPolicy(
        List<Double> schedule,
        long minStepMillis,
        long minSamples,
        List<Guardrail> guardrails,
        double alpha,
        double srmP,
        int failLimit,
        boolean dryRun,
        long windowMillis,
        long maxStepMillis,
        long maxRolloutMillis,
        Verdict.Action timeoutAction,
        AdvanceOn advanceOn)
        implements Serializable {

    /** What moves a canary from one step to the next below the last (see {@code advanceOn}). */
    public enum AdvanceOn {
        /**
         * No guardrail fails: a step below the last limits how many units a harmful candidate
         * reaches while its harm tests gather evidence. A small step cannot show a candidate within
         * a margin (its few units carry too little information about the rest), so asking it to
         * would stop every rollout at its first step.
         */
        NO_HARM,
        /** Every guardrail passes, at every step. */
        PASS
    }

    /** Default maximum durations: a step 6 h, a rollout 48 h (event time). */
    public static final long DEFAULT_MAX_STEP_MILLIS = 6 * 3_600_000L;

    public static final long DEFAULT_MAX_ROLLOUT_MILLIS = 48 * 3_600_000L;

    /** A policy with the default maximum durations, pausing as INCONCLUSIVE at them. */
    public RolloutPolicy(
            List<Double> schedule,
            long minStepMillis,
            long minSamples,
            List<Guardrail> guardrails,
            double alpha,
            double srmP,
            int failLimit,
            boolean dryRun,
            long windowMillis) {
        this(
                schedule,
                minStepMillis,
                minSamples,
                guardrails,
                alpha,
                srmP,
                failLimit,
                dryRun,
                windowMillis,
                Math.max(DEFAULT_MAX_STEP_MILLIS, minStepMillis),
                Math.max(DEFAULT_MAX_ROLLOUT_MILLIS, minStepMillis),
                Verdict.Action.INCONCLUSIVE,
                AdvanceOn.NO_HARM);
    }

    /** A policy judging every monitoring window. */
    public RolloutPolicy(
            List<Double> schedule,
            long minStepMillis,
            long minSamples,
            List<Guardrail> guardrails,
            double alpha,
            double srmP,
            int failLimit,
            boolean dryRun) {
        this(schedule, minStepMillis, minSamples, guardrails, alpha, srmP, failLimit, dryRun, 0);
    }

    /** The default ramp: 1, 5, 10, 25, 50, 100 %. */
    public static final List<Double> DEFAULT_SCHEDULE = List.of(1.0, 5.0, 10.0, 25.0, 50.0, 100.0);

    public RolloutPolicy {
        schedule = List.copyOf(schedule);
        guardrails = List.copyOf(guardrails);
        if (schedule.isEmpty()) {
            throw new IllegalArgumentException("the schedule needs at least one step");
        }
        checkSchedule(schedule);
        if (!(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1), got " + alpha);
        }
        if (!(srmP > 0 && srmP < 1)) {
            throw new IllegalArgumentException("SRM threshold must be in (0, 1), got " + srmP);
        }
        if (windowMillis < 0) {
            throw new IllegalArgumentException("the judging window must not be negative");
        }
        if (maxStepMillis < minStepMillis || maxRolloutMillis < minStepMillis) {
            throw new IllegalArgumentException(
                    "the maximum step and rollout durations must be at least the minimum step duration");
        }
        if (timeoutAction != Verdict.Action.ROLLBACK
                && timeoutAction != Verdict.Action.PROMOTE
                && timeoutAction != Verdict.Action.INCONCLUSIVE) {
            throw new IllegalArgumentException(
                    "a rollout at its maximum duration pauses as INCONCLUSIVE or ends in ROLLBACK or PROMOTE, got "
                            + timeoutAction);
        }
        if (advanceOn == null) {
            advanceOn = AdvanceOn.NO_HARM;
        }
        if (failLimit < 1 || minSamples < 1 || minStepMillis < 0) {
            throw new IllegalArgumentException(
                    "need failLimit >= 1, minSamples >= 1, minStepMillis >= 0");
        }
    }

    private static void checkSchedule(List<Double> schedule) {
        for (int i = 0; i < schedule.size(); i++) {
            double p = schedule.get(i);
            if (!(p > 0 && p <= 100) || (i > 0 && p <= schedule.get(i - 1))) {
                throw new IllegalArgumentException(
                        "schedule steps must rise within (0, 100], got " + schedule);
            }
            if (p > 50 && p < 100) {
                throw new IllegalArgumentException(
                        "schedule steps between 50 and 100 are not supported: a canary's control cohort is as large as its candidate's, so at most 50 %; got "
                                + schedule);
            }
        }
    }

    /** The fields a policy is read from (configuration keys, or a command plan's JSON fields). */
    public static final List<String> FIELDS =
            List.of(
                    "schedule",
                    "min-step-duration",
                    "min-samples",
                    "guardrails",
                    "alpha",
                    "srm-p",
                    "fail-limit",
                    "dry-run",
                    "window",
                    "max-step-duration",
                    "max-duration",
                    "timeout-action",
                    "advance-on");

    /** The fields {@link #fromFields} reads back as this policy (durations in milliseconds). */
    public java.util.Map<String, String> toFields() {
        java.util.Map<String, String> f = new java.util.LinkedHashMap<>();
        f.put("schedule", String.join(",", schedule.stream().map(String::valueOf).toList()));
        f.put("min-step-duration", minStepMillis + " ms");
        f.put("min-samples", Long.toString(minSamples));
        f.put("guardrails", String.join(",", guardrails.stream().map(Guardrail::spec).toList()));
        f.put("alpha", Double.toString(alpha));
        f.put("srm-p", Double.toString(srmP));
        f.put("fail-limit", Integer.toString(failLimit));
        f.put("dry-run", Boolean.toString(dryRun));
        f.put("window", windowMillis + " ms");
        f.put("max-step-duration", maxStepMillis + " ms");
        f.put("max-duration", maxRolloutMillis + " ms");
        f.put("timeout-action", timeoutName(timeoutAction));
        f.put("advance-on", advanceOn.name().toLowerCase(Locale.ROOT).replace('_', '-'));
        return f;
    }

    /**
     * What is wrong with judging an experiment of {@code mode} by this policy: {@code flip_rate}
     * compares a shadow with the served baseline on the same events, so it is for shadow
     * experiments only, and a shadow that passes becomes a canary, which {@code flip_rate} does not
     * judge (it has no pairs), so a shadow needs another guardrail for it. Empty when fine.
     *
     * @param prefix put before {@code guardrails} in the messages
     */
    public List<String> problemsFor(
            io.canaryflow.operators.routing.RolloutPlan.Mode mode, String prefix) {
        boolean flips = guardrails.stream().anyMatch(g -> g.metric() == Guardrail.Metric.FLIP_RATE);
        boolean others =
                guardrails.stream().anyMatch(g -> g.metric() != Guardrail.Metric.FLIP_RATE);
        boolean shadow = mode == io.canaryflow.operators.routing.RolloutPlan.Mode.SHADOW;
        if (flips && !shadow) {
            return List.of(
                    prefix
                            + "guardrails: flip_rate compares a shadow with the served baseline; it is for shadow experiments only");
        }
        if (shadow && !others) {
            return List.of(
                    prefix
                            + "guardrails: a shadow that passes becomes a canary, which flip_rate does not judge (the canary has no pairs); add a guardrail for it, e.g. inference_error_rate:0.01:critical");
        }
        return List.of();
    }

    /**
     * Reads a policy from its fields, defaults for the absent ones: schedule 1, 5, 10, 25, 50, 100;
     * min-step-duration 5 min; min-samples 1000; guardrails {@code
     * inference_error_rate:0.01:critical}; alpha 0.05; srm-p 0.001; fail-limit 2; dry-run false;
     * window: each monitoring window; max-step-duration 6 h; max-duration 48 h; timeout-action
     * pause; advance-on no-harm.
     *
     * @param prefix put before a field's name in error messages
     * @throws IllegalArgumentException naming the field at fault
     */
    public static RolloutPolicy fromFields(java.util.Map<String, String> fields, String prefix) {
        List<String> problems = new java.util.ArrayList<>();
        Reader r = new Reader(fields, prefix, problems);
        List<Double> schedule =
                r.read(
                        "schedule",
                        v -> {
                            List<Double> steps = new java.util.ArrayList<>();
                            for (String part : v.split("[,;]")) {
                                steps.add(Double.parseDouble(part.trim()));
                            }
                            checkSchedule(steps);
                            return steps;
                        },
                        DEFAULT_SCHEDULE);
        long minStep = r.read("min-step-duration", RolloutPolicy::millis, 300_000L);
        long minSamples = r.read("min-samples", v -> atLeast(1, Long.parseLong(v)), 1_000L);
        List<Guardrail> guardrails =
                r.read(
                        "guardrails",
                        v -> {
                            List<Guardrail> all = new java.util.ArrayList<>();
                            for (String spec : v.split(",")) {
                                all.add(Guardrail.parse(spec.trim()));
                            }
                            return all;
                        },
                        List.of(Guardrail.parse("inference_error_rate:0.01:critical")));
        double alpha = r.read("alpha", RolloutPolicy::probability, 0.05);
        double srm = r.read("srm-p", RolloutPolicy::probability, 0.001);
        int failLimit = r.read("fail-limit", v -> (int) atLeast(1, Integer.parseInt(v)), 2);
        boolean dry =
                r.read(
                        "dry-run",
                        v -> {
                            if (!v.equals("true") && !v.equals("false")) {
                                throw new IllegalArgumentException(
                                        "must be true or false, got '" + v + "'");
                            }
                            return Boolean.parseBoolean(v);
                        },
                        false);
        long window = r.read("window", RolloutPolicy::millis, 0L);
        long maxStep =
                r.read(
                        "max-step-duration",
                        RolloutPolicy::millis,
                        Math.max(DEFAULT_MAX_STEP_MILLIS, minStep));
        long maxRollout =
                r.read(
                        "max-duration",
                        RolloutPolicy::millis,
                        Math.max(DEFAULT_MAX_ROLLOUT_MILLIS, maxStep));
        Verdict.Action timeout =
                r.read(
                        "timeout-action",
                        v ->
                                switch (v.toLowerCase(Locale.ROOT)) {
                                    case "pause" -> Verdict.Action.INCONCLUSIVE;
                                    case "rollback" -> Verdict.Action.ROLLBACK;
                                    case "promote" -> Verdict.Action.PROMOTE;
                                    default ->
                                            throw new IllegalArgumentException(
                                                    "must be pause, rollback or promote, got '"
                                                            + v
                                                            + "'");
                                },
                        Verdict.Action.INCONCLUSIVE);
        AdvanceOn advanceOn =
                r.read(
                        "advance-on",
                        v ->
                                switch (v.toLowerCase(Locale.ROOT)) {
                                    case "no-harm" -> AdvanceOn.NO_HARM;
                                    case "pass" -> AdvanceOn.PASS;
                                    default ->
                                            throw new IllegalArgumentException(
                                                    "must be no-harm or pass, got '" + v + "'");
                                },
                        AdvanceOn.NO_HARM);
        if (problems.isEmpty()) {
            try {
                return new RolloutPolicy(
                        schedule,
                        minStep,
                        minSamples,
                        guardrails,
                        alpha,
                        srm,
                        failLimit,
                        dry,
                        window,
                        maxStep,
                        maxRollout,
                        timeout,
                        advanceOn);
            } catch (IllegalArgumentException e) {
                problems.add(prefix.replaceAll("\\.$", "") + ": " + e.getMessage());
            }
        }
        throw new Invalid(problems);
    }

    /** How {@code timeout-action} names an action: {@code pause} for INCONCLUSIVE. */
    static String timeoutName(Verdict.Action action) {
        return action == Verdict.Action.INCONCLUSIVE
                ? "pause"
                : action.name().toLowerCase(Locale.ROOT);
    }

    /** A policy's fields were wrong: every problem, each naming its key. */
    public static final class Invalid extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final List<String> problems;

        Invalid(List<String> problems) {
            super(String.join("; ", problems));
            this.problems = List.copyOf(problems);
        }

        public List<String> problems() {
            return problems;
        }
    }

    /** A duration ("10 s", "5 min", "2 h"), not negative. */
    private static long millis(String v) {
        if (v.trim().startsWith("-")) {
            throw new IllegalArgumentException("must not be negative, got '" + v + "'");
        }
        return org.apache.flink.util.TimeUtils.parseDuration(v).toMillis();
    }

    private static double probability(String v) {
        double p = Double.parseDouble(v);
        if (!(p > 0 && p < 1)) {
            throw new IllegalArgumentException("must be in (0, 1), got " + v);
        }
        return p;
    }

    private static long atLeast(long min, long value) {
        if (value < min) {
            throw new IllegalArgumentException("must be at least " + min + ", got " + value);
        }
        return value;
    }

    /** Reads fields one by one, noting every field's problem rather than stopping at the first. */
    private record Reader(
            java.util.Map<String, String> fields, String prefix, List<String> problems) {
        <T> T read(String key, java.util.function.Function<String, T> parse, T absent) {
            String v = fields.get(key);
            if (v == null) {
                return absent;
            }
            try {
                return parse.apply(v.trim());
            } catch (IllegalArgumentException e) {
                problems.add(prefix + key + ": " + e.getMessage());
                return absent;
            }
        }
    }
}
