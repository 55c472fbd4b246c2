package io.canaryflow.jobs;

import io.canaryflow.jobs.config.ConfigException;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.config.JobOptions;
import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelLoadException;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.control.ControlReadFunction;
import io.canaryflow.operators.control.ControlRecord;
import io.canaryflow.operators.control.Decision;
import io.canaryflow.operators.control.JudgeFunction;
import io.canaryflow.operators.control.JudgeOperator;
import io.canaryflow.operators.control.SignedCommand;
import io.canaryflow.operators.decode.DecodeFunction;
import io.canaryflow.operators.decode.Decoded;
import io.canaryflow.operators.decode.EventTime;
import io.canaryflow.operators.decode.ExperimentSchema;
import io.canaryflow.operators.decode.FeatureEventDecoder;
import io.canaryflow.operators.decode.LabelDecodeFunction;
import io.canaryflow.operators.decode.LabelDecoder;
import io.canaryflow.operators.decode.SourceDecoder;
import io.canaryflow.operators.monitoring.LabelJoinOperator;
import io.canaryflow.operators.monitoring.LabelMergeFunction;
import io.canaryflow.operators.monitoring.LabelPartial;
import io.canaryflow.operators.monitoring.LabelSeries;
import io.canaryflow.operators.monitoring.LocalMonitorOperator;
import io.canaryflow.operators.monitoring.MonitorPartial;
import io.canaryflow.operators.monitoring.MonitorSettings;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.monitoring.RoutedPartial;
import io.canaryflow.operators.monitoring.WaitingPrediction;
import io.canaryflow.operators.monitoring.WindowMergeFunction;
import io.canaryflow.operators.monitoring.WindowPartial;
import io.canaryflow.operators.monitoring.WithoutEventTime;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.RoutedEvent;
import io.canaryflow.operators.routing.RolloutPlan;
import io.canaryflow.operators.routing.RouteFunction;
import io.canaryflow.operators.routing.RouteOperator;
import io.canaryflow.operators.scoring.BatchScoringOperator;
import io.canaryflow.operators.units.LabelSampling;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.DataStreamUtils;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The inference topology: features, decoded and timestamped per partition in the source → route
 * (plans in broadcast state) → batched ONNX scoring → predictions; every dead letter of every stage
 * → dead letters. Sources and sinks are injected, so the job's {@code main} wires Kafka and tests
 * wire what they need to the very same graph.
 */
public final class Pipeline {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

    private Pipeline() {}

    /** Where the pipeline reads and writes. */
    public interface Endpoints {
        /**
         * Feature records, each decoded by {@code decoder} where the source reads it, with
         * timestamps and watermarks from {@code time} generated inside the source per partition.
         */
        DataStream<Decoded> features(
                StreamExecutionEnvironment env,
                SourceDecoder decoder,
                WatermarkStrategy<Decoded> time);

        /** Label records, as {@link #features}; only asked for when labels are enabled. */
        DataStream<Decoded> labels(
                StreamExecutionEnvironment env,
                SourceDecoder decoder,
                WatermarkStrategy<Decoded> time);

        /**
         * Raw control records (commands and decisions), without event time; only asked for when
         * control is on.
         */
        DataStream<ControlRecord> control(StreamExecutionEnvironment env);

        /** Where decisions go (the control topic); only asked for when control is on. */
        Sink<Decision> decisions();

        Sink<Prediction> predictions();

        Sink<DeadLetter> deadLetters();

        Sink<MonitoringRecord> monitoring();
    }

    /** The pipeline's outputs, before their sinks; {@code monitoring} is null when disabled. */
    public record Streams(
            DataStream<Prediction> predictions,
            DataStream<DeadLetter> deadLetters,
            DataStream<MonitoringRecord> monitoring) {}

    /**
     * RocksDB options the job sets (docs/benchmarks.md, "RocksDB options"): the label join writes
     * and deletes every event once, short-lived data that Snappy compression made RocksDB's flushes
     * and compactions spend more CPU on than the join itself; the first levels, where that data
     * lives and dies, stay uncompressed (LZ4 below them, where a long horizon's state settles), and
     * bloom filters answer a new prediction's lookup of an event id that is not stored without
     * reading the files' blocks. Defaults: a deployment that sets one keeps its own ({@link
     * #flinkConfiguration(JobConfig, ReadableConfig)}).
     */
    static final Map<String, String> ROCKSDB_OPTIONS =
            Map.of(
                    "state.backend.rocksdb.compression.per.level",
                    "NO_COMPRESSION;NO_COMPRESSION;LZ4_COMPRESSION",
                    "state.backend.rocksdb.use-bloom-filter",
                    "true");

    /**
     * Managed memory of the embedded (local) Flink the demo, the soak and the benchmark run on:
     * RocksDB's block cache and write buffers for every stateful operator of a slot. A local Flink
     * gets 128 MB by default, a tenth of what a TaskManager of deploy/kubernetes's 4 GB gets by
     * Flink's default fraction (0.4 of its Flink memory): the label join's state then no longer
     * fits RocksDB's cache, every lookup and cleanup reads files, and a soak at 18,707 events/s
     * processed 5,380 (docs/benchmarks.md, "Soak").
     */
    public static final String LOCAL_MANAGED_MEMORY = "1g";

    /**
     * {@link #flinkConfiguration} for a Flink started in this process (the embedded default): also
     * sizes its TaskManager's managed memory ({@link #LOCAL_MANAGED_MEMORY}). A cluster's
     * TaskManagers are sized by its own configuration, not by a job.
     */
    public static Configuration localConfiguration(JobConfig config) {
        Configuration flink = flinkConfiguration(config);
        flink.set(
                org.apache.flink.configuration.TaskManagerOptions.MANAGED_MEMORY_SIZE,
                org.apache.flink.configuration.MemorySize.parse(LOCAL_MANAGED_MEMORY));
        return flink;
    }

    /**
     * {@link #flinkConfiguration(JobConfig)} for a deployment whose own configuration (the
     * configuration file of the client that submits the job, or of the JobManager in application
     * mode and for web submissions; {@code flink run -D}; a FlinkDeployment's {@code
     * flinkConfiguration}) is {@code deployment}: of {@link #ROCKSDB_OPTIONS}, those the deployment
     * sets are left to it, so that a cluster's RocksDB tuning is not overridden by the job's
     * defaults.
     */
    public static Configuration flinkConfiguration(JobConfig config, ReadableConfig deployment) {
        Configuration flink = flinkConfiguration(config);
        Map<String, String> set = deployment.toMap();
        for (String key : ROCKSDB_OPTIONS.keySet()) {
            if (set.containsKey(key)) {
                flink.removeKey(key);
            }
        }
        return flink;
    }

    /**
     * Flink settings the job needs: checkpointing (exactly-once output depends on it), the state
     * backend (RocksDB with incremental checkpoints by default, and {@link #ROCKSDB_OPTIONS}),
     * object reuse (operators never mutate records they have emitted), and no Kryo fallback (every
     * record type has a declared serializer; a regression fails at start rather than slowing down
     * silently).
     */
    public static Configuration flinkConfiguration(JobConfig config) {
        Configuration flink = new Configuration();
        flink.set(
                CheckpointingOptions.CHECKPOINTING_INTERVAL,
                config.get(JobOptions.CHECKPOINT_INTERVAL));
        flink.set(
                StateBackendOptions.STATE_BACKEND,
                config.get(JobOptions.STATE_BACKEND).name().toLowerCase(java.util.Locale.ROOT));
        flink.set(CheckpointingOptions.INCREMENTAL_CHECKPOINTS, true);
        for (Map.Entry<String, String> option : ROCKSDB_OPTIONS.entrySet()) {
            flink.setString(option.getKey(), option.getValue());
        }
        if (config.get(JobOptions.CHECKPOINT_DIRECTORY) != null) {
            flink.set(
                    CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                    config.get(JobOptions.CHECKPOINT_DIRECTORY));
        }
        flink.set(PipelineOptions.OBJECT_REUSE, true);
        flink.set(PipelineOptions.GENERIC_TYPES, false);
        flink.set(PipelineOptions.NAME, config.get(JobOptions.JOB_NAME));
        return flink;
    }

    /**
     * The feature schema of every configured experiment, from its versions' manifests (baseline
     * first). A configured version whose manifest cannot be read or is invalid fails the start,
     * named with its experiment, as every other such version; a version a later plan brings and
     * that cannot be loaded is the scorer's to report (UNAVAILABLE, and the judge rolls it back).
     */
    public static Map<String, ExperimentSchema> schemas(JobConfig config) {
        ModelRepository repository = ModelRepository.at(config.get(JobOptions.MODEL_REPOSITORY));
        Map<String, ExperimentSchema> schemas = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        for (RolloutPlan plan : config.plans()) {
            List<Manifest> manifests = new ArrayList<>();
            List<String> errors = new ArrayList<>();
            for (String version : plan.versions()) {
                try {
                    manifests.add(repository.readManifest(new ModelVersion(plan.model(), version)));
                } catch (ModelLoadException e) {
                    errors.add("version '" + version + "': " + e.getMessage());
                }
            }
            for (String error : errors) {
                problems.add(String.format("experiments.%s: %s", plan.experiment(), error));
            }
            if (errors.isEmpty()) {
                schemas.put(
                        plan.experiment(),
                        ExperimentSchema.of(plan.experiment(), plan.model(), manifests));
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return schemas;
    }

    /** Builds the topology on {@code env} and attaches the sinks of {@code endpoints}. */
    public static Streams build(
            StreamExecutionEnvironment env,
            Endpoints endpoints,
            JobConfig config,
            Map<String, ExperimentSchema> schemas) {
        Map<String, RolloutPlan> plans = new LinkedHashMap<>();
        config.plans().forEach(p -> plans.put(p.experiment(), p));

        WatermarkStrategy<Decoded> eventTime =
                EventTime.perPartition(
                        config.get(JobOptions.MAX_OUT_OF_ORDERNESS),
                        config.get(JobOptions.IDLE_TIMEOUT));
        SingleOutputStreamOperator<FeatureEvent> decoded =
                endpoints
                        .features(
                                env,
                                new FeatureEventDecoder(
                                        schemas,
                                        config.get(JobOptions.MAX_RECORD_BYTES),
                                        config.get(JobOptions.MAX_AHEAD).toMillis()),
                                eventTime)
                        .process(new DecodeFunction())
                        .uid("decode")
                        .name("valid events");

        List<DataStream<DeadLetter>> deadLetterStreams = new ArrayList<>();

        // Routing reads the configured plans and, with control on, the plans the judge decides,
        // read back from the control topic. The plans' stream carries no event time: the route
        // operator forwards the features' time alone.
        SingleOutputStreamOperator<SignedCommand> commands = null;
        SingleOutputStreamOperator<RoutedEvent> routed;
        if (config.get(JobOptions.CONTROL_ENABLED)) {
            commands =
                    endpoints
                            .control(env)
                            .process(
                                    new ControlReadFunction(
                                            config.decisionVerifier(),
                                            config.acceptUnsignedBefore()))
                            .uid("control-read")
                            .name("read control");
            deadLetterStreams.add(commands.getSideOutput(Outputs.DEAD_LETTERS));
            routed =
                    decoded.connect(commands.getSideOutput(ControlReadFunction.PLANS).broadcast())
                            .transform(
                                    "route",
                                    TypeInformation.of(RoutedEvent.class),
                                    // with monitoring on, it counts what it routes per
                                    // monitoring bucket, for the judge's accounting
                                    new RouteOperator(
                                            new RouteFunction(plans),
                                            config.get(JobOptions.MONITORING_ENABLED)
                                                    ? config.monitorSettings().slideMillis()
                                                    : 0))
                            .uid("route");
        } else {
            routed =
                    decoded.process(new RouteFunction.ConfiguredPlans(plans))
                            .uid("route")
                            .name("route");
        }

        // Every scoring outcome: predictions, and failures of a version to score (monitoring only).
        SingleOutputStreamOperator<Prediction> outcomes =
                routed.transform(
                                "score (ONNX Runtime)",
                                TypeInformation.of(Prediction.class),
                                new BatchScoringOperator(
                                        ModelRepository.at(config.get(JobOptions.MODEL_REPOSITORY)),
                                        config.sessionConfig(),
                                        schemas,
                                        config.plans(),
                                        config.get(JobOptions.MAX_BATCH),
                                        config.get(JobOptions.MAX_DELAY).toMillis()))
                        .uid("score");
        DataStream<Prediction> predictions =
                outcomes.filter(Prediction::scored).uid("predictions-only").name("predictions");

        deadLetterStreams.add(routed.getSideOutput(Outputs.DEAD_LETTERS));
        deadLetterStreams.add(outcomes.getSideOutput(Outputs.DEAD_LETTERS));

        DataStream<MonitoringRecord> monitoring = null;
        DataStream<MonitoringRecord> published = null;
        if (config.get(JobOptions.MONITORING_ENABLED)) {
            DataStream<RoutedPartial> routedCounts =
                    commands != null ? routed.getSideOutput(Outputs.ROUTED) : null;
            monitoring =
                    monitoring(
                            env,
                            endpoints,
                            config,
                            schemas,
                            outcomes,
                            routedCounts,
                            deadLetterStreams);
            published =
                    monitoring
                            .filter(r -> !r.labelsMark())
                            .uid("monitoring-published")
                            .name("reports (not marks)");
            published
                    .sinkTo(endpoints.monitoring())
                    .uid("monitoring-sink")
                    .name("monitoring (Kafka)");
            if (commands != null) {
                // The merge's output is already partitioned by experiment: each judge task reads
                // its own merge task alone (a forward edge), so no other merge task, idle or ahead,
                // can move the judge's time past a window whose reports are still coming.
                SingleOutputStreamOperator<Decision> decisions =
                        DataStreamUtils.reinterpretAsKeyedStream(
                                        monitoring, MonitoringRecord::experiment)
                                .connect(commands.keyBy(c -> c.command().experiment()))
                                .transform(
                                        "judge",
                                        TypeInformation.of(Decision.class),
                                        new JudgeOperator(
                                                new JudgeFunction(
                                                        plans,
                                                        config.policies(),
                                                        config.controlKey(),
                                                        config.get(JobOptions.MAX_COMMAND_AGE)
                                                                .toMillis(),
                                                        config.get(JobOptions.LABELS_ENABLED))))
                                .uid("judge");
                deadLetterStreams.add(decisions.getSideOutput(Outputs.DEAD_LETTERS));
                decisions
                        .sinkTo(endpoints.decisions())
                        .uid("decisions-sink")
                        .name("decisions (Kafka)");
            }
        }
        DataStream<DeadLetter> deadLetters =
                decoded.getSideOutput(Outputs.DEAD_LETTERS)
                        .union(deadLetterStreams.toArray(DataStream[]::new));

        predictions
                .sinkTo(endpoints.predictions())
                .uid("predictions-sink")
                .name("predictions (Kafka)");
        deadLetters
                .sinkTo(endpoints.deadLetters())
                .uid("dead-letters-sink")
                .name("dead letters (Kafka)");
        return new Streams(predictions, deadLetters, published);
    }

    /**
     * Monitoring: window counts pre-aggregated in the scoring task, label outcomes from the label
     * join (when enabled), both merged per experiment into one report per (version, arm, window).
     */
    private static DataStream<MonitoringRecord> monitoring(
            StreamExecutionEnvironment env,
            Endpoints endpoints,
            JobConfig config,
            Map<String, ExperimentSchema> schemas,
            DataStream<Prediction> outcomes,
            DataStream<RoutedPartial> routedCounts,
            List<DataStream<DeadLetter>> deadLetters) {
        ModelRepository repository = ModelRepository.at(config.get(JobOptions.MODEL_REPOSITORY));
        MonitorSettings settings = config.monitorSettings();
        Map<String, String> sharedScoreVersions = new LinkedHashMap<>();
        config.plans().forEach(p -> sharedScoreVersions.put(p.experiment(), p.baseline()));
        DataStream<WindowPartial> partials =
                outcomes.transform(
                                "monitor (window pre-aggregation)",
                                TypeInformation.of(WindowPartial.class),
                                new LocalMonitorOperator(
                                        repository,
                                        schemas,
                                        sharedScoreVersions,
                                        settings,
                                        shadowExperiments(config)))
                        .uid("monitor-local");
        DataStream<MonitorPartial> merged =
                partials.map(MonitorPartial::of).uid("monitor-windows").name("window partials");
        if (routedCounts != null) {
            merged =
                    merged.union(
                            routedCounts
                                    .map(MonitorPartial::of)
                                    .uid("monitor-routed")
                                    .name("routed counts"));
        }
        if (config.get(JobOptions.LABELS_ENABLED)) {
            LabelSampling labelSampling =
                    LabelSampling.of(
                            config.get(JobOptions.LABELS_SAMPLE_RATE),
                            config.get(JobOptions.LABELS_SAMPLE_SALT));
            SingleOutputStreamOperator<Label> timedLabels =
                    endpoints
                            .labels(
                                    env,
                                    new LabelDecoder(
                                            config.get(JobOptions.MAX_RECORD_BYTES),
                                            config.get(JobOptions.MAX_AHEAD).toMillis()),
                                    // a labels partition holds the labels' time through
                                    // labels.idle-timeout (10 min) of silence: one that
                                    // starts or resumes later than another cannot find its
                                    // labels late
                                    EventTime.perPartition(
                                            config.get(JobOptions.MAX_OUT_OF_ORDERNESS),
                                            config.get(JobOptions.LABELS_IDLE_TIMEOUT)))
                            .process(new LabelDecodeFunction(labelSampling))
                            .uid("decode-labels")
                            .name("valid labels");
            deadLetters.add(timedLabels.getSideOutput(Outputs.DEAD_LETTERS));
            Map<String, List<String>> versions = new LinkedHashMap<>();
            for (RolloutPlan plan : config.plans()) {
                List<String> modelAndVersions = new ArrayList<>();
                modelAndVersions.add(plan.model());
                modelAndVersions.addAll(plan.versions());
                versions.put(plan.experiment(), modelAndVersions);
            }
            Map<Long, LabelSeries> configuredSeries =
                    new java.util.HashMap<>(LabelSeries.of(versions));
            DataStream<WaitingPrediction> awaiting =
                    outcomes.filter(Prediction::scored)
                            .uid("labelled-predictions")
                            .name("predictions to label")
                            .map(p -> WaitingPrediction.of(p, configuredSeries))
                            .returns(WaitingPrediction.class)
                            .uid("awaiting-label")
                            .name("await label");
            if (!labelSampling.all()) {
                // the sampled units' predictions alone wait (labels.sample-rate)
                awaiting =
                        awaiting.filter(w -> labelSampling.sampled(w.unit()))
                                .uid("sampled-units")
                                .name("sampled units");
            }
            // Label outcomes are reported on the label join's own time, which waits for the
            // labels topic; their reports join the window reports without time, so that drift,
            // error and latency reports (and the judge's windows) never wait for labels.
            DataStream<MonitoringRecord> labelReports =
                    awaiting.keyBy(WaitingPrediction::eventId)
                            .connect(timedLabels.keyBy(Label::eventId))
                            .transform(
                                    "join labels",
                                    TypeInformation.of(LabelPartial.class),
                                    new LabelJoinOperator(
                                            settings.slideMillis(),
                                            config.get(JobOptions.LABEL_HORIZON).toMillis(),
                                            settings.labelThreshold(),
                                            configuredSeries,
                                            config.get(JobOptions.LABELS_IDLE_TIMEOUT).toMillis()))
                            .uid("label-join")
                            .keyBy(LabelPartial::experiment)
                            .process(
                                    new LabelMergeFunction(
                                            repository, schemas, sharedScoreVersions, settings))
                            .uid("label-merge")
                            .name("monitor (label reports)")
                            .transform(
                                    "label reports (no event time)",
                                    TypeInformation.of(MonitoringRecord.class),
                                    new WithoutEventTime<MonitoringRecord>())
                            .uid("label-reports");
            return windowReports(
                            merged,
                            repository,
                            schemas,
                            sharedScoreVersions,
                            settings,
                            routedCounts)
                    .union(labelReports);
        }
        return windowReports(
                merged, repository, schemas, sharedScoreVersions, settings, routedCounts);
    }

    private static DataStream<MonitoringRecord> windowReports(
            DataStream<MonitorPartial> partials,
            ModelRepository repository,
            Map<String, ExperimentSchema> schemas,
            Map<String, String> sharedScoreVersions,
            MonitorSettings settings,
            DataStream<RoutedPartial> routedCounts) {
        return partials.keyBy(MonitorPartial::experiment)
                .process(
                        new WindowMergeFunction(
                                repository,
                                schemas,
                                sharedScoreVersions,
                                settings,
                                routedCounts != null))
                .uid("monitor-merge")
                .name("monitor (window reports)");
    }

    private static java.util.Set<String> shadowExperiments(JobConfig config) {
        java.util.Set<String> shadow = new java.util.HashSet<>();
        config.plans().stream()
                .filter(p -> p.mode() == RolloutPlan.Mode.SHADOW)
                .forEach(p -> shadow.add(p.experiment()));
        return shadow;
    }
}
