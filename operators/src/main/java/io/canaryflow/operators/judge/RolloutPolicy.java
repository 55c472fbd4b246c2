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
 * @param timeoutAction how a rollout that reached a maximum duration ends: ROLLBACK or PROMOTE
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
        Verdict.Action timeoutAction)
        implements Serializable {

    /** Default maximum durations: a step 6 h, a rollout 48 h (event time). */
    public static final long DEFAULT_MAX_STEP_MILLIS = 6 * 3_600_000L;

    public static final long DEFAULT_MAX_ROLLOUT_MILLIS = 48 * 3_600_000L;

    /** A policy with the default maximum durations, ending in ROLLBACK. */
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
                Verdict.Action.ROLLBACK);
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
        for (int i = 0; i < schedule.size(); i++) {
            double p = schedule.get(i);
            if (!(p > 0 && p <= 100) || (i > 0 && p <= schedule.get(i - 1))) {
                throw new IllegalArgumentException(
                        "schedule steps must rise within (0, 100], got " + schedule);
            }
        }
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
        if (timeoutAction != Verdict.Action.ROLLBACK && timeoutAction != Verdict.Action.PROMOTE) {
            throw new IllegalArgumentException(
                    "a rollout at its maximum duration ends in ROLLBACK or PROMOTE, got "
                            + timeoutAction);
        }
        if (failLimit < 1 || minSamples < 1 || minStepMillis < 0) {
            throw new IllegalArgumentException(
                    "need failLimit >= 1, minSamples >= 1, minStepMillis >= 0");
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
                    "timeout-action");

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
        f.put("timeout-action", timeoutAction.name().toLowerCase(Locale.ROOT));
        return f;
    }

    /**
     * Reads a policy from its fields, defaults for the absent ones: schedule 1, 5, 10, 25, 50, 100;
     * min-step-duration 5 min; min-samples 1000; guardrails {@code
     * inference_error_rate:0.01:critical}; alpha 0.05; srm-p 0.001; fail-limit 2; dry-run false;
     * window: each monitoring window; max-step-duration 6 h; max-duration 48 h; timeout-action
     * rollback.
     *
     * @param prefix put before a field's name in error messages
     * @throws IllegalArgumentException naming the field at fault
     */
    public static RolloutPolicy fromFields(java.util.Map<String, String> fields, String prefix) {
        String key = null;
        try {
            key = "schedule";
            List<Double> schedule = new java.util.ArrayList<>();
            if (fields.containsKey(key)) {
                for (String part : fields.get(key).split("[,;]")) {
                    schedule.add(Double.parseDouble(part.trim()));
                }
            } else {
                schedule.addAll(DEFAULT_SCHEDULE);
            }
            key = "min-step-duration";
            long minStep =
                    fields.containsKey(key)
                            ? org.apache.flink.util.TimeUtils.parseDuration(fields.get(key).trim())
                                    .toMillis()
                            : 300_000;
            key = "min-samples";
            long minSamples = Long.parseLong(fields.getOrDefault(key, "1000").trim());
            key = "guardrails";
            List<Guardrail> guardrails = new java.util.ArrayList<>();
            for (String spec :
                    fields.getOrDefault(key, "inference_error_rate:0.01:critical").split(",")) {
                guardrails.add(Guardrail.parse(spec.trim()));
            }
            key = "alpha";
            double alpha = Double.parseDouble(fields.getOrDefault(key, "0.05").trim());
            key = "srm-p";
            double srm = Double.parseDouble(fields.getOrDefault(key, "0.001").trim());
            key = "fail-limit";
            int failLimit = Integer.parseInt(fields.getOrDefault(key, "2").trim());
            key = "dry-run";
            String dry = fields.getOrDefault(key, "false").trim();
            if (!dry.equals("true") && !dry.equals("false")) {
                throw new IllegalArgumentException("must be true or false, got '" + dry + "'");
            }
            key = "window";
            long window =
                    fields.containsKey(key)
                            ? org.apache.flink.util.TimeUtils.parseDuration(fields.get(key).trim())
                                    .toMillis()
                            : 0;
            key = "max-step-duration";
            long maxStep =
                    fields.containsKey(key)
                            ? org.apache.flink.util.TimeUtils.parseDuration(fields.get(key).trim())
                                    .toMillis()
                            : Math.max(DEFAULT_MAX_STEP_MILLIS, minStep);
            key = "max-duration";
            long maxRollout =
                    fields.containsKey(key)
                            ? org.apache.flink.util.TimeUtils.parseDuration(fields.get(key).trim())
                                    .toMillis()
                            : Math.max(DEFAULT_MAX_ROLLOUT_MILLIS, maxStep);
            key = "timeout-action";
            String timeout = fields.getOrDefault(key, "rollback").trim().toUpperCase(Locale.ROOT);
            if (!timeout.equals("ROLLBACK") && !timeout.equals("PROMOTE")) {
                throw new IllegalArgumentException(
                        "must be rollback or promote, got '" + fields.get(key) + "'");
            }
            key = null;
            return new RolloutPolicy(
                    schedule,
                    minStep,
                    minSamples,
                    guardrails,
                    alpha,
                    srm,
                    failLimit,
                    Boolean.parseBoolean(dry),
                    window,
                    maxStep,
                    maxRollout,
                    Verdict.Action.valueOf(timeout));
        } catch (IllegalArgumentException e) {
            String where = key == null ? prefix.replaceAll("\\.$", "") : prefix + key;
            throw new IllegalArgumentException(where + ": " + e.getMessage(), e);
        }
    }
}
