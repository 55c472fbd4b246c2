package io.canaryflow.jobs.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.canaryflow.modelloader.SessionConfig;
import io.canaryflow.operators.control.DecisionKey;
import io.canaryflow.operators.control.DecisionSigner;
import io.canaryflow.operators.control.DecisionVerifier;
import io.canaryflow.operators.routing.RolloutPlan;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inference job's configuration, parsed and checked once at start. Built from a YAML file
 * (nested keys, see {@code configs/inference.yaml}) plus overrides of flat keys ({@code
 * scoring.max-batch=512}). Every problem — unknown key, unparsable or out-of-range value, missing
 * required key, invalid experiment — is collected and reported together by {@link ConfigException},
 * each naming its key.
 */
public final class JobConfig implements Serializable {
    private static final Logger LOG = LoggerFactory.getLogger(JobConfig.class);

    private static final long serialVersionUID = 1L;
    private static final String KAFKA_PROPERTIES = "kafka.properties.";
    private static final String EXPERIMENTS = "experiments.";

    private final Configuration options;
    private final Map<String, String> kafkaProperties;
    private final List<RolloutPlan> plans;
    private final Map<String, io.canaryflow.operators.judge.RolloutPolicy> policies;
    private final DecisionSigner signer;
    private final List<DecisionKey> trustedKeys;

    private JobConfig(
            Configuration options,
            Map<String, String> kafkaProperties,
            List<RolloutPlan> plans,
            Map<String, io.canaryflow.operators.judge.RolloutPolicy> policies,
            DecisionSigner signer,
            List<DecisionKey> trustedKeys) {
        this.options = options;
        this.signer = signer;
        this.trustedKeys = List.copyOf(trustedKeys);
        this.kafkaProperties = Map.copyOf(kafkaProperties);
        this.plans = List.copyOf(plans);
        this.policies =
                java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(policies));
    }

    /** Reads {@code yaml} and applies {@code overrides} (flat keys) on top. */
    public static JobConfig load(Path yaml, Map<String, String> overrides) throws IOException {
        byte[] bytes = Files.readAllBytes(yaml);
        JsonNode tree;
        try {
            List<String> duplicates = duplicateKeys(bytes);
            if (!duplicates.isEmpty()) {
                throw new ConfigException(duplicates.stream().map(d -> yaml + ", " + d).toList());
            }
            tree = new ObjectMapper(new YAMLFactory()).readTree(bytes);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            com.fasterxml.jackson.core.JsonLocation at = e.getLocation();
            throw new ConfigException(
                    List.of(
                            String.format(
                                    "%s%s: %s",
                                    yaml,
                                    at == null ? "" : ", line " + at.getLineNr(),
                                    e.getOriginalMessage())));
        }
        Map<String, String> flat = flatten(tree);
        flat.putAll(overrides);
        return fromFlat(flat);
    }

    /** Every key given twice in one mapping of a YAML document, with its line: all of them. */
    static List<String> duplicateKeys(byte[] yaml) throws IOException {
        List<String> duplicates = new ArrayList<>();
        java.util.Deque<java.util.Set<String>> mappings = new java.util.ArrayDeque<>();
        try (com.fasterxml.jackson.core.JsonParser p = new YAMLFactory().createParser(yaml)) {
            for (com.fasterxml.jackson.core.JsonToken t = p.nextToken();
                    t != null;
                    t = p.nextToken()) {
                switch (t) {
                    case START_OBJECT -> mappings.push(new java.util.HashSet<>());
                    case END_OBJECT -> mappings.pop();
                    case FIELD_NAME -> {
                        if (!mappings.peek().add(p.currentName())) {
                            duplicates.add(
                                    String.format(
                                            "line %d: key '%s' is given twice in its mapping",
                                            p.currentLocation().getLineNr(), p.currentName()));
                        }
                    }
                    default -> {}
                }
            }
        }
        return duplicates;
    }

    /**
     * Flattens a YAML document into {@code a.b.c} keys; {@code experiments} may be a list or a map.
     */
    public static Map<String, String> flatten(JsonNode root) {
        Map<String, String> flat = new LinkedHashMap<>();
        if (root == null || root.isNull() || root.isMissingNode()) {
            return flat;
        }
        if (!root.isObject()) {
            throw new ConfigException(List.of("the configuration file must be a YAML mapping"));
        }
        Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> e = fields.next();
            if (e.getKey().equals("experiments") && e.getValue().isArray()) {
                int i = 0;
                List<String> problems = new ArrayList<>();
                java.util.Set<String> names = new java.util.HashSet<>();
                for (JsonNode experiment : e.getValue()) {
                    JsonNode name = experiment.get("name");
                    if (name == null || !name.isTextual()) {
                        problems.add("experiments[" + i++ + "]: 'name' is required");
                        continue;
                    }
                    if (!names.add(name.asText())) {
                        problems.add(
                                "experiments["
                                        + i++
                                        + "]: experiment '"
                                        + name.asText()
                                        + "' is configured twice");
                        continue;
                    }
                    for (Iterator<Map.Entry<String, JsonNode>> it = experiment.fields();
                            it.hasNext(); ) {
                        Map.Entry<String, JsonNode> f = it.next();
                        if (!f.getKey().equals("name")) {
                            put(flat, EXPERIMENTS + name.asText() + "." + f.getKey(), f.getValue());
                        }
                    }
                    i++;
                }
                if (!problems.isEmpty()) {
                    throw new ConfigException(problems);
                }
            } else {
                put(flat, e.getKey(), e.getValue());
            }
        }
        return flat;
    }

    private static void put(Map<String, String> flat, String key, JsonNode value) {
        if (value.isObject()) {
            value.fields().forEachRemaining(f -> put(flat, key + "." + f.getKey(), f.getValue()));
        } else if (value.isArray()) {
            List<String> parts = new ArrayList<>();
            for (JsonNode item : value) {
                if (item.isObject() && item.has("version")) {
                    parts.add(
                            item.get("version").asText()
                                    + ":"
                                    + (item.has("weight") ? item.get("weight").asText() : "1"));
                } else {
                    parts.add(item.asText());
                }
            }
            if (flat.put(key, String.join(",", parts)) != null) {
                throw new ConfigException(List.of("key '" + key + "' is given twice"));
            }
        } else if (!value.isNull()) {
            if (flat.put(key, value.asText()) != null) {
                throw new ConfigException(List.of("key '" + key + "' is given twice"));
            }
        }
    }

    /** Checks and types a flat key-value map. */
    /** What every sink record adds to the input it carries, at most (JSON fields, names). */
    static final int SINK_RECORD_OVERHEAD = 16 * 1024;

    /**
     * No sink record may exceed the producer's {@code max.request.size}: a prediction carries at
     * most a feature record's strings twice ({@code decode.max-record-bytes}; its unit is also its
     * key), a dead letter the base64 of at most {@code dead-letters.max-original-bytes} (4/3 of it)
     * and bounded strings. A record the producer refuses would fail the sink and restart the job
     * onto the same input.
     */
    private static void sinkRecordsFit(
            Configuration conf, Map<String, String> kafka, List<String> problems) {
        long limit = 1_048_576; // the producer's default max.request.size
        String configured = kafka.get("max.request.size");
        if (configured != null) {
            try {
                limit = Long.parseLong(configured.trim());
            } catch (NumberFormatException e) {
                problems.add(
                        "invalid value '"
                                + configured
                                + "' for key 'kafka.properties.max.request.size': not a number");
                return;
            }
        }
        long record = conf.get(JobOptions.MAX_RECORD_BYTES);
        if (2 * record + SINK_RECORD_OVERHEAD > limit) {
            problems.add(
                    String.format(
                            "key 'decode.max-record-bytes' (%d) must be at most half the producer's max.request.size (%d) less %d bytes: a prediction carries the record's strings, its unit twice (key and value)",
                            record, limit, SINK_RECORD_OVERHEAD));
        }
        long original = conf.get(JobOptions.DEAD_LETTER_MAX_ORIGINAL_BYTES);
        long deadLetter = (original + 2) / 3 * 4 + SINK_RECORD_OVERHEAD;
        if (deadLetter > limit) {
            problems.add(
                    String.format(
                            "key 'dead-letters.max-original-bytes' (%d) is too large: its base64 plus %d bytes must fit the producer's max.request.size (%d)",
                            original, SINK_RECORD_OVERHEAD, limit));
        }
    }

    public static JobConfig fromFlat(Map<String, String> flat) {
        List<String> problems = new ArrayList<>();
        Map<String, ConfigOption<?>> known = new TreeMap<>();
        for (ConfigOption<?> option : JobOptions.all()) {
            known.put(option.key(), option);
        }
        Map<String, String> scalars = new LinkedHashMap<>();
        Map<String, String> kafka = new TreeMap<>();
        Map<String, Map<String, String>> experiments = new TreeMap<>();
        for (Map.Entry<String, String> e : flat.entrySet()) {
            String key = e.getKey();
            if (key.startsWith(KAFKA_PROPERTIES) && key.length() > KAFKA_PROPERTIES.length()) {
                kafka.put(key.substring(KAFKA_PROPERTIES.length()), e.getValue());
            } else if (key.startsWith(EXPERIMENTS)) {
                String rest = key.substring(EXPERIMENTS.length());
                int dot = rest.lastIndexOf('.');
                String field = dot < 0 ? "" : rest.substring(dot + 1);
                if (dot <= 0 || !ExperimentConfig.FIELDS.contains(field)) {
                    problems.add(
                            String.format(
                                    "unknown key '%s' (experiment fields: %s)",
                                    key, new java.util.TreeSet<>(ExperimentConfig.FIELDS)));
                } else {
                    experiments
                            .computeIfAbsent(rest.substring(0, dot), n -> new LinkedHashMap<>())
                            .put(field, e.getValue());
                }
            } else if (known.containsKey(key)) {
                scalars.put(key, e.getValue());
            } else {
                problems.add(
                        String.format("unknown key '%s'%s", key, suggestion(key, known.keySet())));
            }
        }
        Configuration parsed = Configuration.fromMap(scalars);
        for (ConfigOption<?> option : known.values()) {
            try {
                Object value = parsed.get(option);
                if (value instanceof Duration d && d.isNegative()) {
                    throw new IllegalArgumentException("a duration must not be negative");
                }
            } catch (IllegalArgumentException e) {
                problems.add(
                        String.format(
                                "invalid value '%s' for key '%s': %s",
                                scalars.get(option.key()), option.key(), deepestMessage(e)));
                // checked on, at its default, so that every other key's problem is reported too
                scalars.remove(option.key());
            }
        }
        Configuration conf = Configuration.fromMap(scalars);
        require(conf, JobOptions.BOOTSTRAP_SERVERS, problems);
        require(conf, JobOptions.MODEL_REPOSITORY, problems);
        atLeast(conf, JobOptions.PARALLELISM, 1, problems);
        atLeast(conf, JobOptions.DEVICE_ID, 0, problems);
        atLeast(conf, JobOptions.INTRA_OP_THREADS, 1, problems);
        atLeast(conf, JobOptions.WARM_UP_RUNS, 1, problems);
        atLeast(conf, JobOptions.MAX_BATCH, 1, problems);
        atLeast(conf, JobOptions.MAX_RECORD_BYTES, 1, problems);
        atLeast(conf, JobOptions.DEAD_LETTER_MAX_ORIGINAL_BYTES, 0, problems);
        sinkRecordsFit(conf, kafka, problems);
        positive(conf, JobOptions.CHECKPOINT_INTERVAL, problems);
        positive(conf, JobOptions.TRANSACTION_TIMEOUT, problems);
        if (conf.get(JobOptions.MAX_BATCH) > 65_536) {
            problems.add(
                    "key 'scoring.max-batch' must be at most 65536, got "
                            + conf.get(JobOptions.MAX_BATCH));
        }
        atLeast(conf, JobOptions.MONITORING_MIN_COUNT, 1, problems);
        double rate = conf.get(JobOptions.MONITORING_SAMPLE_RATE);
        if (!(rate > 0 && rate <= 1)) {
            problems.add("key 'monitoring.sample-rate' must be in (0, 1], got " + rate);
        }
        positive(conf, JobOptions.MONITORING_WINDOW, problems);
        if (!(conf.get(JobOptions.PSI_WARN) > 0
                && conf.get(JobOptions.PSI_ALERT) >= conf.get(JobOptions.PSI_WARN))) {
            problems.add(
                    String.format(
                            "keys 'monitoring.psi-warn' and 'monitoring.psi-alert' need 0 < warn <= alert, got %s and %s",
                            conf.get(JobOptions.PSI_WARN), conf.get(JobOptions.PSI_ALERT)));
        }
        Duration slide = conf.get(JobOptions.MONITORING_SLIDE);
        Duration window = conf.get(JobOptions.MONITORING_WINDOW);
        if (slide != null
                && (slide.toMillis() < 1
                        || window.toMillis() < 1
                        || window.toMillis() % slide.toMillis() != 0
                        || slide.compareTo(window) > 0)) {
            problems.add(
                    String.format(
                            "key 'monitoring.slide' must divide 'monitoring.window' (%s), got %s",
                            window, slide));
        }
        positive(conf, JobOptions.MONITORING_TIMEOUT, problems);
        positive(conf, JobOptions.LABEL_HORIZON, problems);
        double labelRate = conf.get(JobOptions.LABELS_SAMPLE_RATE);
        if (!(labelRate > 0 && labelRate <= 1)) {
            problems.add("key 'labels.sample-rate' must be in (0, 1], got " + labelRate);
        }
        atLeast(conf, JobOptions.SEGMENT_MAX_VALUES, 1, problems);
        levels(conf, JobOptions.ERROR_RATE_WARN, JobOptions.ERROR_RATE_ALERT, problems);
        levels(conf, JobOptions.LABEL_ERROR_WARN, JobOptions.LABEL_ERROR_ALERT, problems);
        if (conf.get(JobOptions.LATENCY_P99_ALERT).compareTo(conf.get(JobOptions.LATENCY_P99_WARN))
                < 0) {
            problems.add(
                    "keys 'monitoring.latency-p99-warn' and 'monitoring.latency-p99-alert' need warn <= alert");
        }
        double q = conf.get(JobOptions.FALSE_DISCOVERY_RATE);
        if (!(q > 0 && q < 1)) {
            problems.add("key 'monitoring.false-discovery-rate' must be in (0, 1), got " + q);
        }
        if (conf.get(JobOptions.LABELS_ENABLED) && !conf.get(JobOptions.MONITORING_ENABLED)) {
            problems.add("key 'labels.enabled' needs 'monitoring.enabled: true'");
        }
        if (conf.get(JobOptions.MAX_DELAY).isNegative()) {
            problems.add("key 'scoring.max-delay' must not be negative");
        }
        List<RolloutPlan> plans = new ArrayList<>();
        Map<String, io.canaryflow.operators.judge.RolloutPolicy> policies =
                new java.util.LinkedHashMap<>();
        for (Map.Entry<String, Map<String, String>> e : experiments.entrySet()) {
            RolloutPlan plan = null;
            try {
                plan = ExperimentConfig.toPlan(e.getKey(), e.getValue());
                plans.add(plan);
            } catch (ConfigException ex) {
                problems.addAll(ex.problems());
            }
            // the policy's problems too, even when the plan has some: every key at once
            if (plan == null || plan.mode() != RolloutPlan.Mode.AB || plan.variants().size() == 2) {
                try {
                    io.canaryflow.operators.judge.RolloutPolicy policy =
                            ExperimentConfig.toPolicy(e.getKey(), e.getValue());
                    if (plan != null) {
                        List<String> mismatch =
                                policy.problemsFor(plan.mode(), "experiments." + e.getKey() + ".");
                        problems.addAll(mismatch);
                        if (mismatch.isEmpty()) {
                            policies.put(e.getKey(), policy);
                        }
                    }
                } catch (io.canaryflow.operators.judge.RolloutPolicy.Invalid ex) {
                    problems.addAll(ex.problems());
                } catch (IllegalArgumentException ex) {
                    problems.add(ex.getMessage());
                }
            }
        }
        long monitoringWindow = conf.get(JobOptions.MONITORING_WINDOW).toMillis();
        policies.forEach(
                (name, policy) -> {
                    if (monitoringWindow > 0 && policy.windowMillis() % monitoringWindow != 0) {
                        problems.add(
                                String.format(
                                        "experiments.%s.window must be a multiple of 'monitoring.window' (%d ms), got %d ms",
                                        name, monitoringWindow, policy.windowMillis()));
                    }
                });
        labelGuardrails(conf, policies, problems);
        DecisionSigner signer = null;
        List<DecisionKey> trusted = new ArrayList<>();
        if (conf.get(JobOptions.CONTROL_ENABLED)) {
            if (!conf.get(JobOptions.MONITORING_ENABLED)) {
                problems.add("key 'control.enabled' needs 'monitoring.enabled: true'");
            }
            if (controlKey(conf) == null) {
                problems.add(
                        "key 'control.key' (or environment variable CANARYFLOW_CONTROL_KEY) is required with 'control.enabled': the HMAC key of control commands, at least 16 bytes");
            } else if (controlKey(conf).getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                    < 16) {
                problems.add("key 'control.key' must have at least 16 bytes");
            }
            positive(conf, JobOptions.MAX_COMMAND_AGE, problems);
            if (conf.get(JobOptions.ACCEPT_UNSIGNED_BEFORE) != null) {
                try {
                    java.time.Instant.parse(conf.get(JobOptions.ACCEPT_UNSIGNED_BEFORE));
                    LOG.warn(
                            "'{}' is set: unsigned decisions decided before {} move routing; remove it once the job has checkpointed after the upgrade",
                            JobOptions.ACCEPT_UNSIGNED_BEFORE.key(),
                            conf.get(JobOptions.ACCEPT_UNSIGNED_BEFORE));
                } catch (java.time.format.DateTimeParseException e) {
                    problems.add(
                            String.format(
                                    "key '%s' must be an ISO-8601 instant such as 2026-12-06T15:00:00Z, got '%s'",
                                    JobOptions.ACCEPT_UNSIGNED_BEFORE.key(),
                                    conf.get(JobOptions.ACCEPT_UNSIGNED_BEFORE)));
                }
            }
            signer = signer(conf, problems);
            for (String file : conf.get(JobOptions.TRUSTED_PUBLIC_KEYS)) {
                try {
                    trusted.add(DecisionKey.read(Path.of(file)));
                } catch (IllegalArgumentException e) {
                    problems.add(
                            "key '"
                                    + JobOptions.TRUSTED_PUBLIC_KEYS.key()
                                    + "': "
                                    + e.getMessage());
                }
            }
        }
        if (experiments.isEmpty()) {
            problems.add("no experiment configured: add at least one under 'experiments'");
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new JobConfig(conf, kafka, plans, policies, signer, trusted);
    }

    /**
     * A {@code label_error_rate} guardrail needs labels, and labels that can arrive while the
     * rollout runs: a label horizon longer than the rollout's maximum duration means the first
     * predictions' labels may come only after the rollout has ended (the guardrail would see only
     * the quickest labels, a biased sample), so it is refused, naming both settings. A horizon
     * longer than a step's maximum duration is allowed (labels of earlier steps keep arriving) and
     * logged as a warning.
     */
    private static void labelGuardrails(
            Configuration conf,
            Map<String, io.canaryflow.operators.judge.RolloutPolicy> policies,
            List<String> problems) {
        Duration horizon = conf.get(JobOptions.LABEL_HORIZON);
        policies.forEach(
                (name, policy) -> {
                    boolean judgesLabels =
                            policy.guardrails().stream()
                                    .anyMatch(
                                            g ->
                                                    g.metric()
                                                            == io.canaryflow.operators.judge
                                                                    .Guardrail.Metric
                                                                    .LABEL_ERROR_RATE);
                    if (!judgesLabels) {
                        return;
                    }
                    if (!conf.get(JobOptions.LABELS_ENABLED)) {
                        problems.add(
                                String.format(
                                        "experiments.%s.guardrails: label_error_rate needs 'labels.enabled: true'",
                                        name));
                    } else if (horizon.toMillis() > policy.maxRolloutMillis()) {
                        problems.add(
                                String.format(
                                        "experiments.%s.guardrails: label_error_rate cannot see its labels: 'labels.horizon' (%s) is longer than 'experiments.%s.max-duration' (%s); lengthen max-duration or shorten the horizon",
                                        name,
                                        human(horizon.toMillis()),
                                        name,
                                        human(policy.maxRolloutMillis())));
                    } else if (horizon.toMillis() > policy.maxStepMillis()) {
                        LOG.warn(
                                "experiments.{}.guardrails: 'labels.horizon' ({}) is longer than 'experiments.{}.max-step-duration' ({}): a step may end before its predictions' labels can arrive",
                                name,
                                human(horizon.toMillis()),
                                name,
                                human(policy.maxStepMillis()));
                    }
                });
    }

    private static String human(long millis) {
        Duration d = Duration.ofMillis(millis);
        return d.toString().substring(2).toLowerCase(java.util.Locale.ROOT);
    }

    private static String controlKey(Configuration conf) {
        String key = conf.get(JobOptions.CONTROL_KEY);
        return key != null ? key : System.getenv("CANARYFLOW_CONTROL_KEY");
    }

    /**
     * The key that signs decisions: from exactly one of {@code control.signing-key},
     * CANARYFLOW_SIGNING_KEY (PEM text) and {@code control.signing-key-file} (two are a problem),
     * else one derived from the control key (logged as a warning: whoever holds the control key can
     * then sign decisions). Null when the control key it would derive from is missing (a problem
     * reported already).
     */
    private static DecisionSigner signer(Configuration conf, List<String> problems) {
        // each source, blank as unset: at most one may give the key
        String fileSource = "key '" + JobOptions.SIGNING_KEY_FILE.key() + "'";
        Map<String, String> given = new LinkedHashMap<>();
        given.put("key '" + JobOptions.SIGNING_KEY.key() + "'", conf.get(JobOptions.SIGNING_KEY));
        given.put("environment variable " + SIGNING_KEY_ENV, System.getenv(SIGNING_KEY_ENV));
        given.put(fileSource, conf.get(JobOptions.SIGNING_KEY_FILE));
        given.values().removeIf(v -> v == null || v.isBlank());
        if (given.size() > 1) {
            problems.add(
                    String.join(" and ", given.keySet())
                            + " each give the decision signing key: keep one");
            return null;
        }
        for (Map.Entry<String, String> g : given.entrySet()) {
            boolean file = g.getKey().equals(fileSource);
            try {
                return file
                        ? DecisionSigner.read(Path.of(g.getValue()))
                        : DecisionSigner.fromPem(g.getValue(), g.getKey());
            } catch (IllegalArgumentException e) {
                problems.add((file ? g.getKey() + ": " : "") + e.getMessage());
                return null;
            }
        }
        String controlKey = controlKey(conf);
        if (controlKey == null) {
            return null;
        }
        DecisionSigner derived =
                DecisionSigner.derivedFrom(
                        controlKey.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        LOG.warn(
                "No decision signing key configured ('{}', {} or '{}'): decisions are signed with a key derived from the control key, id {}; whoever holds the control key can sign decisions. Its public key (give it to every consumer of decisions, e.g. bin/control automation --public-key):\n{}",
                JobOptions.SIGNING_KEY.key(),
                SIGNING_KEY_ENV,
                JobOptions.SIGNING_KEY_FILE.key(),
                derived.key().id(),
                derived.key().toPem());
        return derived;
    }

    /**
     * Unsigned decisions decided before this time still move routing (epoch milliseconds; {@code
     * Long.MIN_VALUE} when {@code control.accept-unsigned-decisions-before} is unset).
     */
    public long acceptUnsignedBefore() {
        String at = options.get(JobOptions.ACCEPT_UNSIGNED_BEFORE);
        return at == null ? Long.MIN_VALUE : java.time.Instant.parse(at).toEpochMilli();
    }

    /** The environment variable of the decision signing key (PEM text). */
    public static final String SIGNING_KEY_ENV = "CANARYFLOW_SIGNING_KEY";

    /** The key that signs the job's decisions; null when control is off. */
    public DecisionSigner decisionSigner() {
        return signer;
    }

    /**
     * What verifies the decisions the job reads back before routing follows them: its own public
     * key and the {@code control.trusted-public-keys}.
     */
    public DecisionVerifier decisionVerifier() {
        List<DecisionKey> keys = new ArrayList<>();
        keys.add(signer.key());
        keys.addAll(trustedKeys);
        return new DecisionVerifier(keys);
    }

    /** The HMAC key of control commands: {@code control.key}, else CANARYFLOW_CONTROL_KEY. */
    public byte[] controlKey() {
        String key = controlKey(options);
        return key == null ? null : key.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** How each canary experiment is judged. */
    public Map<String, io.canaryflow.operators.judge.RolloutPolicy> policies() {
        return policies;
    }

    /** What the innermost cause says (Flink's own wrapper repeats the key and value). */
    private static String deepestMessage(Throwable e) {
        Throwable deepest = e;
        while (deepest.getCause() != null && deepest.getCause().getMessage() != null) {
            deepest = deepest.getCause();
        }
        return deepest.getMessage();
    }

    private static void require(
            Configuration conf, ConfigOption<String> option, List<String> problems) {
        String v = conf.get(option);
        if (v == null || v.isBlank()) {
            problems.add(
                    String.format(
                            "key '%s' is required: %s",
                            option.key(),
                            new org.apache.flink.configuration.description.HtmlFormatter()
                                    .format(option.description())));
        }
    }

    private static void atLeast(
            Configuration conf, ConfigOption<Integer> option, int min, List<String> problems) {
        if (conf.get(option) != null && conf.get(option) < min) {
            problems.add(
                    String.format(
                            "key '%s' must be at least %d, got %d",
                            option.key(), min, conf.get(option)));
        }
    }

    private static void positive(
            Configuration conf, ConfigOption<Duration> option, List<String> problems) {
        if (conf.get(option).isZero() || conf.get(option).isNegative()) {
            problems.add(
                    String.format(
                            "key '%s' must be positive, got %s", option.key(), conf.get(option)));
        }
    }

    private static void levels(
            Configuration conf,
            ConfigOption<Double> warn,
            ConfigOption<Double> alert,
            List<String> problems) {
        if (!(conf.get(warn) >= 0 && conf.get(alert) >= conf.get(warn))) {
            problems.add(
                    String.format(
                            "keys '%s' and '%s' need 0 <= warn <= alert, got %s and %s",
                            warn.key(), alert.key(), conf.get(warn), conf.get(alert)));
        }
    }

    private static String suggestion(String key, Iterable<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = levenshtein(key, candidate);
            if (d < bestDistance) {
                bestDistance = d;
                best = candidate;
            }
        }
        return best != null && bestDistance <= 3 ? " (did you mean '" + best + "'?)" : "";
    }

    private static int levenshtein(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    public <T> T get(ConfigOption<T> option) {
        return options.get(option);
    }

    /** Kafka client properties from {@code kafka.properties.*}, passed to every client as is. */
    public Properties kafkaProperties() {
        Properties p = new Properties();
        p.putAll(kafkaProperties);
        return p;
    }

    public List<RolloutPlan> plans() {
        return plans;
    }

    /** Monitoring's settings: windows, thresholds, segments, labels. */
    public io.canaryflow.operators.monitoring.MonitorSettings monitorSettings() {
        return new io.canaryflow.operators.monitoring.MonitorSettings(
                get(JobOptions.MONITORING_WINDOW).toMillis(),
                get(JobOptions.MONITORING_SLIDE) == null
                        ? get(JobOptions.MONITORING_WINDOW).toMillis()
                        : get(JobOptions.MONITORING_SLIDE).toMillis(),
                get(JobOptions.MONITORING_SAMPLE_RATE),
                get(JobOptions.MONITORING_TIMEOUT).toNanos() / 1_000,
                driftThresholds(),
                new io.canaryflow.operators.monitoring.MonitorSettings.Levels(
                        get(JobOptions.ERROR_RATE_WARN), get(JobOptions.ERROR_RATE_ALERT)),
                new io.canaryflow.operators.monitoring.MonitorSettings.Levels(
                        get(JobOptions.LATENCY_P99_WARN).toNanos() / 1_000.0,
                        get(JobOptions.LATENCY_P99_ALERT).toNanos() / 1_000.0),
                new io.canaryflow.operators.monitoring.MonitorSettings.Levels(
                        get(JobOptions.LABEL_ERROR_WARN), get(JobOptions.LABEL_ERROR_ALERT)),
                get(JobOptions.LABEL_THRESHOLD),
                segmentFields(),
                get(JobOptions.SEGMENT_MAX_VALUES),
                get(JobOptions.FALSE_DISCOVERY_RATE),
                get(JobOptions.LABELS_SAMPLE_RATE));
    }

    /** {@code monitoring.segments}: a YAML list, or names separated by commas or semicolons. */
    public List<String> segmentFields() {
        List<String> fields = new ArrayList<>();
        for (String item : get(JobOptions.MONITORING_SEGMENTS)) {
            for (String name : item.split(",")) {
                if (!name.isBlank()) {
                    fields.add(name.trim());
                }
            }
        }
        return fields;
    }

    /** Drift thresholds for monitoring reports. */
    public io.canaryflow.operators.drift.DriftMeasures.Thresholds driftThresholds() {
        return new io.canaryflow.operators.drift.DriftMeasures.Thresholds(
                get(JobOptions.PSI_WARN),
                get(JobOptions.PSI_ALERT),
                get(JobOptions.MONITORING_MIN_COUNT),
                io.canaryflow.operators.drift.Psi.DEFAULT_EPSILON);
    }

    public SessionConfig sessionConfig() {
        return new SessionConfig(
                get(JobOptions.DEVICE),
                get(JobOptions.DEVICE_ID),
                get(JobOptions.INTRA_OP_THREADS),
                get(JobOptions.WARM_UP_RUNS));
    }
}
