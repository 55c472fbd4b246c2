package io.canaryflow.jobs.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.canaryflow.jobs.InferenceJob;
import io.canaryflow.jobs.Pipeline;
import io.canaryflow.modelloader.Device;
import io.canaryflow.modelloader.SessionConfig;
import io.canaryflow.operators.routing.RolloutPlan;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.StateBackendOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobConfigTest {
    static final Path CONFIGS = Path.of("..", "configs");

    static Map<String, String> minimal() {
        Map<String, String> c = new LinkedHashMap<>();
        c.put("kafka.bootstrap-servers", "localhost:9092");
        c.put("models.repository", "/models");
        c.put("experiments.fraud.baseline", "v1");
        c.put("experiments.fraud.candidate", "v2");
        return c;
    }

    @Test
    void shouldLoadTheShippedExampleConfigurations() throws Exception {
        // the control key comes from the environment in production; here, as an override
        JobConfig inference =
                JobConfig.load(
                        CONFIGS.resolve("inference.yaml"),
                        Map.of("control.key", "0123456789abcdef0123"));
        assertThat(inference.policies().get("fraud").minSamples()).isEqualTo(5_000);
        assertThat(inference.policies().get("fraud").guardrails()).hasSize(2);
        assertThat(inference.get(JobOptions.BOOTSTRAP_SERVERS))
                .isEqualTo("kafka-1:9092,kafka-2:9092");
        assertThat(inference.kafkaProperties()).containsEntry("security.protocol", "SASL_SSL");
        assertThat(inference.get(JobOptions.MAX_DELAY)).isEqualTo(Duration.ofMillis(10));
        assertThat(inference.plans())
                .singleElement()
                .satisfies(
                        p -> {
                            assertThat(p.experiment()).isEqualTo("fraud");
                            assertThat(p.canaryPercent()).isEqualTo(5.0);
                            assertThat(p.salt()).isEqualTo("fraud-2026-11");
                        });
        assertThat(inference.segmentFields()).containsExactly("country", "device");
        assertThat(inference.get(JobOptions.LABELS_ENABLED)).isTrue();
        assertThat(inference.monitorSettings().labelError().alert()).isEqualTo(0.4);
        assertThat(inference.monitorSettings().latencyP99Micros().warn()).isEqualTo(50_000);

        JobConfig demo =
                JobConfig.load(
                        CONFIGS.resolve("demo.yaml"),
                        Map.of(
                                "kafka.bootstrap-servers",
                                "localhost:1",
                                "models.repository",
                                "/tmp/models",
                                "control.key", // the demo makes one
                                "0123456789abcdef0123"));
        assertThat(demo.plans())
                .extracting(RolloutPlan::mode)
                .containsExactlyInAnyOrder(
                        RolloutPlan.Mode.CANARY, RolloutPlan.Mode.CANARY, RolloutPlan.Mode.SHADOW);
        assertThat(demo.policies()).containsOnlyKeys("fraud", "fraud-risky", "fraud-shadow");
        assertThat(demo.policies().get("fraud-risky").guardrails())
                .extracting(g -> g.metric().wireName(), g -> g.threshold(), g -> g.critical())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("inference_error_rate", 0.01, true),
                        org.assertj.core.groups.Tuple.tuple("label_error_rate", 0.05, true));
        assertThat(demo.policies().get("fraud").schedule())
                .containsExactly(10.0, 25.0, 50.0, 100.0);
        // the example plan of a SET_PLAN command
        var plan =
                io.canaryflow.operators.control.ControlCodec.tree(
                        java.nio.file.Files.readAllBytes(CONFIGS.resolve("rollout-plan.json")));
        assertThat(io.canaryflow.operators.control.ControlCodec.plan(plan).candidate())
                .isEqualTo("v3");
        assertThat(plan.get("guardrails")).hasSize(2);
    }

    @Test
    void shouldRejectUnknownKeyNamingItAndSuggestingTheClosest() {
        Map<String, String> c = minimal();
        c.put("scoring.max-bacth", "12");
        c.put("experiments.fraud.canary-precent", "5");
        assertThatThrownBy(() -> JobConfig.fromFlat(c))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(
                        "unknown key 'scoring.max-bacth' (did you mean 'scoring.max-batch'?)")
                .hasMessageContaining("unknown key 'experiments.fraud.canary-precent'");
    }

    @Test
    void shouldRejectBadValuesAndMissingKeysNamingEach() {
        Map<String, String> c = minimal();
        c.remove("kafka.bootstrap-servers");
        c.put("scoring.max-batch", "many");
        c.put("models.device", "gpu");
        assertThatThrownBy(() -> JobConfig.fromFlat(c))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("invalid value 'many' for key 'scoring.max-batch'")
                .hasMessageContaining("invalid value 'gpu' for key 'models.device'");

        Map<String, String> d = minimal();
        d.remove("kafka.bootstrap-servers");
        d.put("scoring.max-batch", "0");
        d.put("experiments.fraud.canary-percent", "150");
        ConfigException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(d));
        assertThat(e.problems())
                .anySatisfy(
                        p -> assertThat(p).contains("key 'kafka.bootstrap-servers' is required"))
                .anySatisfy(
                        p -> assertThat(p).contains("key 'scoring.max-batch' must be at least 1"))
                .anySatisfy(
                        p ->
                                assertThat(p)
                                        .contains(
                                                "experiments.fraud",
                                                "canary-percent must be within [0, 100]"));
    }

    @Test
    void shouldReportEveryProblemAtOnceNegativeDurationsUnknownKeysAndRangesAlike() {
        Map<String, String> c = minimal();
        c.put("monitoring.window", "-10 s");
        c.put("checkpoint.interval", "-1 s");
        c.put("scoring.max-bacth", "12");
        c.put("scoring.max-batch", "0");
        c.put("experiments.fraud.window", "-10 s");
        c.put("experiments.fraud.alpha", "2");
        c.remove("kafka.bootstrap-servers");
        ConfigException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(c));
        assertThat(e.problems())
                .anySatisfy(p -> assertThat(p).contains("'-10 s' for key 'monitoring.window'"))
                .anySatisfy(p -> assertThat(p).contains("'-1 s' for key 'checkpoint.interval'"))
                .anySatisfy(p -> assertThat(p).contains("unknown key 'scoring.max-bacth'"))
                .anySatisfy(p -> assertThat(p).contains("'scoring.max-batch' must be at least 1"))
                .anySatisfy(p -> assertThat(p).contains("experiments.fraud.window"))
                .anySatisfy(p -> assertThat(p).contains("experiments.fraud.alpha"))
                .anySatisfy(p -> assertThat(p).contains("'kafka.bootstrap-servers' is required"));
        assertThat(e.getMessage()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void shouldRejectAKeyGivenTwiceInTheFileNamingItAndItsLine(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("twice.yaml");
        java.nio.file.Files.writeString(
                file,
                "kafka:\n  bootstrap-servers: a:9092\n  group-id: g\n  bootstrap-servers: b:9092\n");
        assertThatThrownBy(() -> JobConfig.load(file, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("line 4: key 'bootstrap-servers' is given twice");
        Path many = dir.resolve("many.yaml");
        java.nio.file.Files.writeString(
                many,
                "job:\n  name: a\n  name: b\nscoring:\n  max-batch: 1\n  max-batch: 2\n"
                        + "experiments:\n  - name: x\n    baseline: v1\n  - name: x\n    candidate: v2\n");
        ConfigException all =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.load(many, Map.of()));
        assertThat(all.problems())
                .hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("line 3: key 'name'"))
                .anySatisfy(p -> assertThat(p).contains("line 6: key 'max-batch'"));
        java.nio.file.Files.writeString(
                many,
                "experiments:\n  - name: x\n    baseline: v1\n  - name: x\n    candidate: v2\n");
        assertThatThrownBy(() -> JobConfig.load(many, Map.of()))
                .hasMessageContaining("experiment 'x' is configured twice");
        Path dotted = dir.resolve("dotted.yaml");
        java.nio.file.Files.writeString(dotted, "kafka.group-id: one\nkafka:\n  group-id: two\n");
        assertThatThrownBy(() -> JobConfig.load(dotted, Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("key 'kafka.group-id' is given twice");
    }

    @Test
    void shouldRejectInconsistentMonitoringSettingsNamingTheKeys() {
        Map<String, String> c = minimal();
        c.put("monitoring.window", "1 min");
        c.put("monitoring.slide", "25 s");
        c.put("monitoring.enabled", "false");
        c.put("labels.enabled", "true");
        c.put("labels.error-warn", "0.5");
        c.put("labels.error-alert", "0.3");
        c.put("monitoring.false-discovery-rate", "1.5");
        ConfigException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(c));
        assertThat(e.problems())
                .anySatisfy(p -> assertThat(p).contains("'monitoring.slide' must divide"))
                .anySatisfy(p -> assertThat(p).contains("'labels.enabled' needs"))
                .anySatisfy(p -> assertThat(p).contains("'labels.error-warn' and"))
                .anySatisfy(p -> assertThat(p).contains("'monitoring.false-discovery-rate'"));

        Map<String, String> ok = minimal();
        ok.put("monitoring.window", "1 min");
        ok.put("monitoring.slide", "20 s");
        ok.put("monitoring.segments", "country;device");
        JobConfig config = JobConfig.fromFlat(ok);
        assertThat(config.monitorSettings().slideMillis()).isEqualTo(20_000);
        assertThat(config.monitorSettings().sliding()).isTrue();
        assertThat(config.segmentFields()).containsExactly("country", "device");
    }

    @Test
    void shouldRefuseALabelGuardrailWhoseLabelsCannotArriveWithinTheRolloutNamingBothSettings() {
        Map<String, String> c = minimal();
        c.put("experiments.fraud.guardrails", "label_error_rate:0.05:critical");
        c.put("experiments.fraud.max-duration", "2 d");
        c.put("labels.enabled", "true");
        c.put("labels.horizon", "30 d");
        ConfigException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(c));
        assertThat(e.problems())
                .singleElement()
                .satisfies(
                        p ->
                                assertThat(p)
                                        .contains("'labels.horizon' (720h)")
                                        .contains("'experiments.fraud.max-duration' (48h)"));

        c.put("labels.enabled", "false");
        c.put("labels.horizon", "1 h");
        assertThat(
                        org.junit.jupiter.api.Assertions.assertThrows(
                                        ConfigException.class, () -> JobConfig.fromFlat(c))
                                .problems())
                .singleElement()
                .satisfies(p -> assertThat(p).contains("label_error_rate needs 'labels.enabled"));

        // longer than a step but within the rollout: allowed (labels of earlier steps arrive)
        c.put("labels.enabled", "true");
        c.put("labels.horizon", "12 h");
        assertThat(JobConfig.fromFlat(c).policies().get("fraud").maxStepMillis())
                .isLessThan(12 * 3_600_000L);
    }

    @Test
    void shouldTakeTheDecisionSigningKeyFromAFileOrDeriveItAndNameEveryBadKey(
            @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Map<String, String> c = minimal();
        c.put("control.enabled", "true");
        c.put("control.key", "0123456789abcdef0123");
        // none configured: derived from the control key, the same on every start
        assertThat(JobConfig.fromFlat(c).decisionSigner().key())
                .isEqualTo(
                        io.canaryflow.operators.control.DecisionSigner.derivedFrom(
                                        "0123456789abcdef0123".getBytes())
                                .key());
        var signer = io.canaryflow.operators.control.DecisionSigner.generate();
        var previous = io.canaryflow.operators.control.DecisionSigner.generate();
        Path key = dir.resolve("signing.pem");
        java.nio.file.Files.writeString(key, signer.toPem());
        Path old = dir.resolve("previous.pub.pem");
        java.nio.file.Files.writeString(old, previous.key().toPem());
        c.put("control.signing-key-file", key.toString());
        c.put("control.trusted-public-keys", old.toString());
        JobConfig config = JobConfig.fromFlat(c);
        assertThat(config.decisionSigner().key()).isEqualTo(signer.key());
        assertThat(config.decisionVerifier().keyIds())
                .containsExactly(signer.key().id(), previous.key().id());
        // the PEM text itself
        Map<String, String> inline = minimal();
        inline.put("control.enabled", "true");
        inline.put("control.key", "0123456789abcdef0123");
        inline.put("control.signing-key", signer.toPem());
        assertThat(JobConfig.fromFlat(inline).decisionSigner().key()).isEqualTo(signer.key());

        Map<String, String> bad = new java.util.HashMap<>(c);
        bad.put("control.signing-key-file", dir.resolve("missing.pem").toString());
        bad.put("control.trusted-public-keys", key.toString()); // a private key, not a public one
        ConfigException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(bad));
        assertThat(e.problems())
                .anySatisfy(p -> assertThat(p).contains("control.signing-key-file", "missing.pem"))
                .anySatisfy(
                        p ->
                                assertThat(p)
                                        .contains(
                                                "control.trusted-public-keys",
                                                "signing.pem",
                                                "BEGIN PUBLIC KEY"));
        Map<String, String> twice = new java.util.HashMap<>(inline);
        twice.put("control.signing-key-file", key.toString());
        assertThat(
                        org.junit.jupiter.api.Assertions.assertThrows(
                                        ConfigException.class, () -> JobConfig.fromFlat(twice))
                                .problems())
                .anySatisfy(
                        p ->
                                assertThat(p)
                                        .contains(
                                                "'control.signing-key'",
                                                "'control.signing-key-file'",
                                                "keep one"));
        Map<String, String> upgrade = new java.util.HashMap<>(inline);
        upgrade.put("control.accept-unsigned-decisions-before", "2026-12-06T15:00:00Z");
        assertThat(JobConfig.fromFlat(upgrade).acceptUnsignedBefore())
                .isEqualTo(java.time.Instant.parse("2026-12-06T15:00:00Z").toEpochMilli());
        upgrade.put("control.accept-unsigned-decisions-before", "yesterday");
        assertThat(
                        org.junit.jupiter.api.Assertions.assertThrows(
                                        ConfigException.class, () -> JobConfig.fromFlat(upgrade))
                                .problems())
                .anySatisfy(
                        p ->
                                assertThat(p)
                                        .contains(
                                                "control.accept-unsigned-decisions-before",
                                                "ISO-8601",
                                                "yesterday"));
        Map<String, String> garbage = new java.util.HashMap<>(inline);
        garbage.put("control.signing-key", "not a key");
        assertThat(
                        org.junit.jupiter.api.Assertions.assertThrows(
                                        ConfigException.class, () -> JobConfig.fromFlat(garbage))
                                .problems())
                .anySatisfy(
                        p ->
                                assertThat(p)
                                        .contains("'control.signing-key'", "BEGIN PRIVATE KEY")
                                        .doesNotContain("not a key"));
    }

    @Test
    void shouldRejectABadRolloutPolicyAndControlWithoutAKeyNamingTheKeys() {
        Map<String, String> c = minimal();
        c.put("experiments.fraud.guardrails", "speed:0.1");
        c.put("experiments.fraud.schedule", "50,10");
        c.put("control.enabled", "true");
        c.put("control.key", "short");
        ConfigException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(c));
        assertThat(e.problems())
                .anySatisfy(
                        p ->
                                assertThat(p)
                                        .contains(
                                                "experiments.fraud.guardrails",
                                                "unknown metric 'speed'"))
                .anySatisfy(
                        p ->
                                assertThat(p)
                                        .contains(
                                                "experiments.fraud.schedule",
                                                "schedule steps must rise"))
                .anySatisfy(
                        p -> assertThat(p).contains("'control.key' must have at least 16 bytes"));
        // a plan's problem and its policy's, named together
        Map<String, String> both = minimal();
        both.put("experiments.fraud.canary-percent", "140");
        both.put("experiments.fraud.alpha", "2");
        ConfigException e2 =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(both));
        assertThat(e2.problems())
                .anySatisfy(p -> assertThat(p).contains("canary-percent"))
                .anySatisfy(p -> assertThat(p).contains("alpha"));
        Map<String, String> d = minimal();
        d.put("experiments.fraud.schedule", "50,10");
        assertThatThrownBy(() -> JobConfig.fromFlat(d))
                .hasMessageContaining("schedule steps must rise");
    }

    @Test
    void shouldRejectFlipRateOutsideAShadowAndAShadowJudgedOnFlipRateAlone() {
        // flip_rate needs a shadow's pairs; a shadow that passes becomes a canary without them
        Map<String, String> canary = minimal();
        canary.put("experiments.fraud.guardrails", "flip_rate:0.05:critical");
        assertThatThrownBy(() -> JobConfig.fromFlat(canary))
                .hasMessageContaining("experiments.fraud.guardrails")
                .hasMessageContaining("for shadow experiments only");
        Map<String, String> shadow = minimal();
        shadow.put("experiments.fraud.mode", "shadow");
        shadow.put("experiments.fraud.guardrails", "flip_rate:0.05:critical");
        assertThatThrownBy(() -> JobConfig.fromFlat(shadow))
                .hasMessageContaining("experiments.fraud.guardrails")
                .hasMessageContaining("add a guardrail for it");
        shadow.put(
                "experiments.fraud.guardrails",
                "flip_rate:0.05:critical,inference_error_rate:0.01:critical");
        assertThat(JobConfig.fromFlat(shadow).policies().get("fraud").guardrails()).hasSize(2);
    }

    @Test
    void shouldDeclareEveryOptionOnceWithADescription() {
        Set<String> keys = new HashSet<>();
        for (ConfigOption<?> option : JobOptions.all()) {
            assertThat(keys.add(option.key())).as("duplicate key %s", option.key()).isTrue();
            assertThat(option.description().toString()).as(option.key()).isNotBlank();
        }
        assertThat(keys).hasSizeGreaterThan(20);
    }

    @Test
    void shouldPassEachOptionToWhatReadsIt() {
        Map<String, String> c = minimal();
        c.put("models.device", "cpu");
        c.put("models.device-id", "3");
        c.put("models.intra-op-threads", "2");
        c.put("models.warm-up-runs", "5");
        c.put("checkpoint.interval", "7 s");
        c.put("checkpoint.directory", "file:///tmp/cp");
        c.put("state.backend", "hashmap");
        JobConfig config = JobConfig.fromFlat(c);
        assertThat(config.sessionConfig()).isEqualTo(new SessionConfig(Device.CPU, 3, 2, 5));
        Configuration flink = Pipeline.flinkConfiguration(config);
        assertThat(flink.get(CheckpointingOptions.CHECKPOINTING_INTERVAL))
                .isEqualTo(Duration.ofSeconds(7));
        assertThat(flink.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .isEqualTo("file:///tmp/cp");
        assertThat(flink.get(StateBackendOptions.STATE_BACKEND)).isEqualTo("hashmap");
        assertThat(flink.get(CheckpointingOptions.INCREMENTAL_CHECKPOINTS)).isTrue();
        assertThat(flink.get(PipelineOptions.GENERIC_TYPES)).isFalse();
    }

    /** The RocksDB options the label join is measured with, in the types Flink reads them as. */
    @Test
    void shouldSetRocksDbOptionsFlinkCanRead() {
        Configuration flink = Pipeline.flinkConfiguration(JobConfig.fromFlat(minimal()));
        assertThat(
                        flink.get(
                                org.apache.flink.state.rocksdb.RocksDBConfigurableOptions
                                        .COMPRESSION_PER_LEVEL))
                .containsExactly(
                        org.rocksdb.CompressionType.NO_COMPRESSION,
                        org.rocksdb.CompressionType.NO_COMPRESSION,
                        org.rocksdb.CompressionType.LZ4_COMPRESSION);
        assertThat(
                        flink.get(
                                org.apache.flink.state.rocksdb.RocksDBConfigurableOptions
                                        .USE_BLOOM_FILTER))
                .isTrue();
    }

    @Test
    void shouldParseAbVariantsAndDeriveAStablePlanId() {
        Map<String, String> c = minimal();
        c.remove("experiments.fraud.baseline");
        c.remove("experiments.fraud.candidate");
        c.put("experiments.fraud.mode", "ab");
        c.put("experiments.fraud.variants", "v1:2, v2:1");
        RolloutPlan plan = JobConfig.fromFlat(c).plans().get(0);
        assertThat(plan.variants())
                .containsExactly(
                        new RolloutPlan.Variant("v1", 2), new RolloutPlan.Variant("v2", 1));
        assertThat(plan.planId())
                .isEqualTo(JobConfig.fromFlat(c).plans().get(0).planId())
                .startsWith("fraud-");
        c.put("experiments.fraud.variants", "v1:2, v2:3");
        assertThat(JobConfig.fromFlat(c).plans().get(0).planId()).isNotEqualTo(plan.planId());
    }

    @Test
    void shouldApplyCommandLineOverridesOnTopOfTheFile() throws Exception {
        JobConfig config =
                InferenceJob.parseArgs(
                        new String[] {
                            "--config",
                            CONFIGS.resolve("inference.yaml").toString(),
                            "--scoring.max-batch=512",
                            "--control.key=0123456789abcdef0123",
                            "--experiments.fraud.canary-percent",
                            "7"
                        });
        assertThat(config.get(JobOptions.MAX_BATCH)).isEqualTo(512);
        assertThat(config.plans().get(0).canaryPercent()).isEqualTo(7.0);
        assertThatThrownBy(() -> InferenceJob.parseArgs(new String[] {"--config", "/nope.yaml"}))
                .hasMessageContaining("'/nope.yaml' cannot be read");
    }

    @Test
    void shouldRejectLimitsUnderWhichASinkRecordCouldExceedTheProducersMaximum() {
        Map<String, String> c = minimal();
        c.put("decode.max-record-bytes", "1048576");
        c.put("dead-letters.max-original-bytes", "800000");
        ConfigException e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(c));
        assertThat(e.problems())
                .anySatisfy(p -> assertThat(p).contains("'decode.max-record-bytes' (1048576)"))
                .anySatisfy(
                        p -> assertThat(p).contains("'dead-letters.max-original-bytes' (800000)"));

        // a producer allowed larger requests takes larger records
        Map<String, String> larger = minimal();
        larger.put("kafka.properties.max.request.size", "4194304");
        larger.put("decode.max-record-bytes", "1048576");
        larger.put("dead-letters.max-original-bytes", "1048576");
        assertThat(JobConfig.fromFlat(larger).get(JobOptions.MAX_RECORD_BYTES))
                .isEqualTo(1_048_576);

        Map<String, String> smaller = minimal();
        smaller.put("kafka.properties.max.request.size", "65536");
        e =
                org.junit.jupiter.api.Assertions.assertThrows(
                        ConfigException.class, () -> JobConfig.fromFlat(smaller));
        assertThat(e.problems()).hasSize(2);
    }

    @Test
    void shouldDocumentEveryOptionAndExperimentFieldInTheConfigurationReference() throws Exception {
        String readme = java.nio.file.Files.readString(Path.of("..", "docs", "configuration.md"));
        for (ConfigOption<?> option : JobOptions.all()) {
            assertThat(readme).as(option.key()).contains("| `" + option.key() + "` |");
        }
        for (String field : ExperimentConfig.FIELDS) {
            assertThat(readme).as(field).contains("`" + field + "`");
        }
    }
}
