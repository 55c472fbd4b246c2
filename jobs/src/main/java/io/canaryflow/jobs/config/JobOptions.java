package io.canaryflow.jobs.config;

import io.canaryflow.modelloader.Device;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Every scalar configuration key of the inference job, with its type, default and description. Keys
 * under {@code kafka.properties.} pass through to every Kafka client; keys under {@code
 * experiments.<name>.} are described by {@link ExperimentConfig}; any other key not declared here
 * is rejected at start.
 */
public final class JobOptions {
    private JobOptions() {}

    public static final ConfigOption<String> JOB_NAME =
            ConfigOptions.key("job.name")
                    .stringType()
                    .defaultValue("canaryflow-inference")
                    .withDescription("Name of the Flink job.");

    public static final ConfigOption<Integer> PARALLELISM =
            ConfigOptions.key("job.parallelism")
                    .intType()
                    .noDefaultValue()
                    .withDescription(
                            "Parallelism of every operator. Unset (the default): the deployment's, from `flink run -p N`, `parallelism.default` or a FlinkDeployment's `spec.job.parallelism`.");

    public static final ConfigOption<String> BOOTSTRAP_SERVERS =
            ConfigOptions.key("kafka.bootstrap-servers")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Kafka bootstrap servers, host:port[,host:port...]. Required.");

    public static final ConfigOption<String> GROUP_ID =
            ConfigOptions.key("kafka.group-id")
                    .stringType()
                    .defaultValue("canaryflow-inference")
                    .withDescription(
                            "Consumer group of the job's sources: features, labels and control (offsets are committed on checkpoints); each source's client id is the group id and its topic.");

    public static final ConfigOption<StartingOffsets> STARTING_OFFSETS =
            ConfigOptions.key("kafka.starting-offsets")
                    .enumType(StartingOffsets.class)
                    .defaultValue(StartingOffsets.COMMITTED)
                    .withDescription(
                            "Where the features source starts without a checkpoint: committed (group offsets, else earliest), earliest, latest.");

    public static final ConfigOption<Boolean> BOUNDED =
            ConfigOptions.key("kafka.bounded")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Stop at the offsets that are latest when the job starts (backfills, tests).");

    public static final ConfigOption<String> TRANSACTIONAL_ID_PREFIX =
            ConfigOptions.key("kafka.transactional-id-prefix")
                    .stringType()
                    .defaultValue("canaryflow-inference")
                    .withDescription(
                            "Prefix of the exactly-once sinks' transactional ids; unique per job on a Kafka cluster.");

    public static final ConfigOption<Duration> TRANSACTION_TIMEOUT =
            ConfigOptions.key("kafka.transaction-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(15))
                    .withDescription(
                            "transaction.timeout.ms of the sinks; keep it well above checkpoint interval + restart time and at most the broker's transaction.max.timeout.ms.");

    public static final ConfigOption<String> FEATURES_TOPIC =
            ConfigOptions.key("kafka.topics.features")
                    .stringType()
                    .defaultValue("features")
                    .withDescription("Topic of feature events (input).");

    public static final ConfigOption<String> PREDICTIONS_TOPIC =
            ConfigOptions.key("kafka.topics.predictions")
                    .stringType()
                    .defaultValue("predictions")
                    .withDescription("Topic of predictions (output, exactly once).");

    public static final ConfigOption<String> DEAD_LETTERS_TOPIC =
            ConfigOptions.key("kafka.topics.dead-letters")
                    .stringType()
                    .defaultValue("dead-letters")
                    .withDescription("Topic of dead letters (output, exactly once).");

    public static final ConfigOption<String> MONITORING_TOPIC =
            ConfigOptions.key("kafka.topics.monitoring")
                    .stringType()
                    .defaultValue("monitoring")
                    .withDescription(
                            "Topic of per-window monitoring reports (output, exactly once).");

    public static final ConfigOption<Boolean> MONITORING_ENABLED =
            ConfigOptions.key("monitoring.enabled")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription(
                            "Whether the job reports per-window drift, counts and latency.");

    public static final ConfigOption<Double> MONITORING_SAMPLE_RATE =
            ConfigOptions.key("monitoring.sample-rate")
                    .doubleType()
                    .defaultValue(1.0)
                    .withDescription(
                            "Share of predictions whose features enter the drift histograms, in (0, 1]; chosen by a hash of the event id, so the same events are sampled on every replay. Counts, score drift and latency use every prediction.");

    public static final ConfigOption<Duration> MONITORING_WINDOW =
            ConfigOptions.key("monitoring.window")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(1))
                    .withDescription(
                            "Length of the tumbling event-time windows monitoring reports on.");

    public static final ConfigOption<Duration> MONITORING_SLIDE =
            ConfigOptions.key("monitoring.slide")
                    .durationType()
                    .noDefaultValue()
                    .withDescription(
                            "Start a window every this long (sliding windows; must divide monitoring.window). Unset: tumbling windows.");

    public static final ConfigOption<Integer> MONITORING_MIN_COUNT =
            ConfigOptions.key("monitoring.min-count")
                    .intType()
                    .defaultValue(100)
                    .withDescription(
                            "Fewer observations in a window and a measure is reported as INSUFFICIENT.");

    public static final ConfigOption<Double> PSI_WARN =
            ConfigOptions.key("monitoring.psi-warn")
                    .doubleType()
                    .defaultValue(0.1)
                    .withDescription("PSI at or above this is WARN.");

    public static final ConfigOption<Double> PSI_ALERT =
            ConfigOptions.key("monitoring.psi-alert")
                    .doubleType()
                    .defaultValue(0.25)
                    .withDescription("PSI at or above this is ALERT.");

    public static final ConfigOption<Duration> MONITORING_TIMEOUT =
            ConfigOptions.key("monitoring.timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(1))
                    .withDescription(
                            "A prediction whose scoring latency exceeds this counts as a timeout, an inference error of its version.");

    public static final ConfigOption<Double> ERROR_RATE_WARN =
            ConfigOptions.key("monitoring.error-rate-warn")
                    .doubleType()
                    .defaultValue(0.01)
                    .withDescription(
                            "Inference error rate (failed or timed-out scorings / attempts) at or above this is WARN.");

    public static final ConfigOption<Double> ERROR_RATE_ALERT =
            ConfigOptions.key("monitoring.error-rate-alert")
                    .doubleType()
                    .defaultValue(0.05)
                    .withDescription("Inference error rate at or above this is ALERT.");

    public static final ConfigOption<Duration> LATENCY_P99_WARN =
            ConfigOptions.key("monitoring.latency-p99-warn")
                    .durationType()
                    .defaultValue(Duration.ofMillis(50))
                    .withDescription("p99 scoring latency at or above this is WARN.");

    public static final ConfigOption<Duration> LATENCY_P99_ALERT =
            ConfigOptions.key("monitoring.latency-p99-alert")
                    .durationType()
                    .defaultValue(Duration.ofMillis(200))
                    .withDescription("p99 scoring latency at or above this is ALERT.");

    public static final ConfigOption<List<String>> MONITORING_SEGMENTS =
            ConfigOptions.key("monitoring.segments")
                    .stringType()
                    .asList()
                    .defaultValues()
                    .withDescription(
                            "Event 'segment' fields drift is also measured per value of (e.g. [country, device]).");

    public static final ConfigOption<Integer> SEGMENT_MAX_VALUES =
            ConfigOptions.key("monitoring.segment-max-values")
                    .intType()
                    .defaultValue(20)
                    .withDescription(
                            "Distinct values per segment field, window and subtask that are measured apart; further values are measured together as '__other__'.");

    public static final ConfigOption<Double> FALSE_DISCOVERY_RATE =
            ConfigOptions.key("monitoring.false-discovery-rate")
                    .doubleType()
                    .defaultValue(0.05)
                    .withDescription(
                            "Benjamini-Hochberg q across the features x segments of a window; only discoveries are leveled WARN/ALERT.");

    public static final ConfigOption<Boolean> LABELS_ENABLED =
            ConfigOptions.key("labels.enabled")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Whether the job reads the labels topic and joins labels to predictions by event_id (needs monitoring.enabled).");

    public static final ConfigOption<String> LABELS_TOPIC =
            ConfigOptions.key("kafka.topics.labels")
                    .stringType()
                    .defaultValue("labels")
                    .withDescription("Topic of ground-truth labels (input, when labels.enabled).");

    public static final ConfigOption<Duration> LABEL_HORIZON =
            ConfigOptions.key("labels.horizon")
                    .durationType()
                    .defaultValue(Duration.ofHours(1))
                    .withDescription(
                            "How long after its event a prediction waits for its label (event time); later labels count as late. Also the TTL of the join state.");

    public static final ConfigOption<Double> LABELS_SAMPLE_RATE =
            ConfigOptions.key("labels.sample-rate")
                    .doubleType()
                    .defaultValue(1.0)
                    .withDescription(
                            "Share of units, in (0, 1], whose predictions wait for labels: chosen by a salted hash of the unit (labels.sample-salt), the same units in every arm, task and run. Label outcomes, label error rates and the label_error_rate guardrail use the sampled units; the join's state scales with the rate. A label whose record names its unit ('unit') is dropped at once when the unit is not sampled.");

    public static final ConfigOption<String> LABELS_SAMPLE_SALT =
            ConfigOptions.key("labels.sample-salt")
                    .stringType()
                    .defaultValue("labels")
                    .withDescription(
                            "Salt of the unit hash that samples units for labels (labels.sample-rate); another salt samples other units.");

    public static final ConfigOption<Duration> LABELS_IDLE_TIMEOUT =
            ConfigOptions.key("labels.idle-timeout")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(10))
                    .withDescription(
                            "How long a labels partition may be silent (from the start too) and still hold back the labels' time, and how long one that resumes holds it again; when every labels partition is silent this long the label join's time follows the predictions' alone; 0: a partition that has had a label holds for ever (one without, and a task without partitions, hold nothing). Label outcomes wait for the labels' time, so a pause shorter than this never makes labels late.");

    public static final ConfigOption<Double> LABEL_THRESHOLD =
            ConfigOptions.key("labels.threshold")
                    .doubleType()
                    .defaultValue(0.5)
                    .withDescription(
                            "A classifier's score at or above this predicts the positive class (for the misclassification rate).");

    public static final ConfigOption<Double> LABEL_ERROR_WARN =
            ConfigOptions.key("labels.error-warn")
                    .doubleType()
                    .defaultValue(0.25)
                    .withDescription(
                            "Misclassification rate (classifiers) or MAE (regressors) at or above this is WARN; set it for your model.");

    public static final ConfigOption<Double> LABEL_ERROR_ALERT =
            ConfigOptions.key("labels.error-alert")
                    .doubleType()
                    .defaultValue(0.4)
                    .withDescription("Misclassification rate or MAE at or above this is ALERT.");

    public static final ConfigOption<Boolean> CONTROL_ENABLED =
            ConfigOptions.key("control.enabled")
                    .booleanType()
                    .defaultValue(false)
                    .withDescription(
                            "Judge every canary experiment and publish decisions to the control topic; read the topic back for commands and routing (needs monitoring.enabled).");

    public static final ConfigOption<String> CONTROL_TOPIC =
            ConfigOptions.key("kafka.topics.control")
                    .stringType()
                    .defaultValue("control")
                    .withDescription(
                            "Topic of commands (in) and decisions (out, exactly once), when control.enabled.");

    public static final ConfigOption<String> CONTROL_KEY =
            ConfigOptions.key("control.key")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "HMAC-SHA256 key of control commands (at least 16 bytes); unset: the CANARYFLOW_CONTROL_KEY environment variable.");

    public static final ConfigOption<String> SIGNING_KEY =
            ConfigOptions.key("control.signing-key")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Ed25519 private key that signs decisions, as PEM text (PKCS#8 'PRIVATE KEY'). At most one of this, the CANARYFLOW_SIGNING_KEY environment variable and control.signing-key-file; none: a key derived from control.key.");

    public static final ConfigOption<String> SIGNING_KEY_FILE =
            ConfigOptions.key("control.signing-key-file")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "File with the Ed25519 private key that signs decisions (PEM, PKCS#8), read where the job is built.");

    public static final ConfigOption<List<String>> TRUSTED_PUBLIC_KEYS =
            ConfigOptions.key("control.trusted-public-keys")
                    .stringType()
                    .asList()
                    .defaultValues()
                    .withDescription(
                            "Files with Ed25519 public keys (PEM) whose decisions the job follows besides its own: the previous key while keys rotate.");

    public static final ConfigOption<String> ACCEPT_UNSIGNED_BEFORE =
            ConfigOptions.key("control.accept-unsigned-decisions-before")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "For the first start after an upgrade from a version that did not sign decisions: unsigned decisions decided before this instant (ISO-8601, e.g. 2026-12-06T15:00:00Z) still move routing. Remove it once the job has checkpointed.");

    public static final ConfigOption<Duration> MAX_COMMAND_AGE =
            ConfigOptions.key("control.max-command-age")
                    .durationType()
                    .defaultValue(Duration.ofMinutes(5))
                    .withDescription(
                            "Commands issued longer ago (or further in the future) than this are rejected as STALE.");

    public static final ConfigOption<String> MODEL_REPOSITORY =
            ConfigOptions.key("models.repository")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Model repository: a local path or a Flink file system URI (s3://bucket/models). Required.");

    public static final ConfigOption<Device> DEVICE =
            ConfigOptions.key("models.device")
                    .enumType(Device.class)
                    .defaultValue(Device.AUTO)
                    .withDescription(
                            "auto (CUDA if usable, else CPU), cuda (fail the version without CUDA) or cpu.");

    public static final ConfigOption<Integer> DEVICE_ID =
            ConfigOptions.key("models.device-id")
                    .intType()
                    .defaultValue(0)
                    .withDescription("CUDA device for sessions.");

    public static final ConfigOption<Integer> INTRA_OP_THREADS =
            ConfigOptions.key("models.intra-op-threads")
                    .intType()
                    .defaultValue(1)
                    .withDescription("ONNX Runtime intra-op threads per session.");

    public static final ConfigOption<Integer> WARM_UP_RUNS =
            ConfigOptions.key("models.warm-up-runs")
                    .intType()
                    .defaultValue(3)
                    .withDescription(
                            "Inference calls on a typical row before a version goes live.");

    public static final ConfigOption<Integer> MAX_BATCH =
            ConfigOptions.key("scoring.max-batch")
                    .intType()
                    .defaultValue(256)
                    .withDescription("Rows per ONNX Runtime call at most.");

    public static final ConfigOption<Duration> MAX_DELAY =
            ConfigOptions.key("scoring.max-delay")
                    .durationType()
                    .defaultValue(Duration.ofMillis(10))
                    .withDescription("Longest an event waits for its micro-batch to fill.");

    public static final ConfigOption<Integer> MAX_RECORD_BYTES =
            ConfigOptions.key("decode.max-record-bytes")
                    .intType()
                    .defaultValue(65_536)
                    .withDescription("Larger feature records are dead-lettered as OVERSIZE.");

    public static final ConfigOption<Integer> DEAD_LETTER_MAX_ORIGINAL_BYTES =
            ConfigOptions.key("dead-letters.max-original-bytes")
                    .intType()
                    .defaultValue(65_536)
                    .withDescription(
                            "A dead letter keeps at most this many bytes of its original record "
                                    + "(always with the original's full length and SHA-256), so that "
                                    + "no dead letter exceeds what the dead-letter producer accepts.");

    public static final ConfigOption<Duration> MAX_OUT_OF_ORDERNESS =
            ConfigOptions.key("events.max-out-of-orderness")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(5))
                    .withDescription(
                            "How far event time (ts) may run backwards before events count as late.");

    public static final ConfigOption<Duration> MAX_AHEAD =
            ConfigOptions.key("events.max-ahead")
                    .durationType()
                    .defaultValue(Duration.ofHours(1))
                    .withDescription(
                            "How far an event's or label's ts may be ahead of its Kafka record's timestamp; further is MALFORMED.");

    public static final ConfigOption<Duration> IDLE_TIMEOUT =
            ConfigOptions.key("events.idle-timeout")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(30))
                    .withDescription(
                            "A source partition without events this long stops holding back the watermark.");

    public static final ConfigOption<Duration> CHECKPOINT_INTERVAL =
            ConfigOptions.key("checkpoint.interval")
                    .durationType()
                    .defaultValue(Duration.ofSeconds(10))
                    .withDescription(
                            "Checkpoint interval; exactly-once output becomes visible at each checkpoint.");

    public static final ConfigOption<String> CHECKPOINT_DIRECTORY =
            ConfigOptions.key("checkpoint.directory")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "Checkpoint storage URI (file://, s3://, hdfs://); default: the cluster's execution.checkpointing.dir.");

    public static final ConfigOption<StateBackend> STATE_BACKEND =
            ConfigOptions.key("state.backend")
                    .enumType(StateBackend.class)
                    .defaultValue(StateBackend.ROCKSDB)
                    .withDescription("rocksdb (incremental checkpoints) or hashmap.");

    /** Where the features source starts without a checkpoint. */
    public enum StartingOffsets {
        COMMITTED,
        EARLIEST,
        LATEST
    }

    /** Which Flink state backend. */
    public enum StateBackend {
        ROCKSDB,
        HASHMAP
    }

    /** Every option declared above. */
    public static List<ConfigOption<?>> all() {
        List<ConfigOption<?>> options = new ArrayList<>();
        for (Field f : JobOptions.class.getDeclaredFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getType() == ConfigOption.class) {
                try {
                    options.add((ConfigOption<?>) f.get(null));
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return options;
    }
}
