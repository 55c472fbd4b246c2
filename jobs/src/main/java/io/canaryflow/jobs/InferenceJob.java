package io.canaryflow.jobs;

import io.canaryflow.jobs.config.ConfigException;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.config.JobOptions;
import io.canaryflow.jobs.kafka.KafkaEndpoints;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The inference job: {@code features} topic → decode → route → batched ONNX scoring → {@code
 * predictions} topic, dead letters → {@code dead-letters} topic, exactly once.
 *
 * <pre>
 * flink run canaryflow-jobs-*-job.jar --config inference.yaml [--key value | --key=value ...]
 * </pre>
 *
 * Every flat configuration key can be overridden on the command line ({@code --scoring.max-batch
 * 512}, {@code --experiments.fraud.canary-percent 10}).
 */
public final class InferenceJob {
    private InferenceJob() {}

    public static void main(String[] args) throws Exception {
        JobConfig config;
        StreamExecutionEnvironment env;
        try {
            config = parseArgs(args);
            env = environment(config);
            build(env, config);
        } catch (ConfigException | IllegalArgumentException e) {
            refuse(e.getMessage());
            return;
        }
        env.execute(config.get(JobOptions.JOB_NAME));
    }

    /**
     * Ends a start refused for its configuration, with the message once and no stack trace: the
     * client ({@code flink run}, the demo's launcher) exits with status 2; in application mode,
     * where the job's main runs inside the JobManager, the application fails with the message.
     */
    private static void refuse(String message) {
        System.err.println("canaryflow: " + message);
        String target =
                StreamExecutionEnvironment.getExecutionEnvironment()
                        .getConfiguration()
                        .get(org.apache.flink.configuration.DeploymentOptions.TARGET);
        if ("embedded".equals(target)) {
            throw new StartRefused(message);
        }
        System.exit(2);
    }

    /** A start refused for its configuration: its message says why; it has no stack trace. */
    static final class StartRefused extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StartRefused(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The execution environment the job runs in: the deployment's ({@code flink run}, a
     * FlinkDeployment, or a local one), with the job's checkpointing and pipeline settings; the
     * RocksDB options the deployment's configuration sets stay the deployment's.
     */
    public static StreamExecutionEnvironment environment(JobConfig config) {
        // an environment without the job's settings shows the deployment's configuration
        ReadableConfig deployment =
                StreamExecutionEnvironment.getExecutionEnvironment().getConfiguration();
        return StreamExecutionEnvironment.getExecutionEnvironment(
                Pipeline.flinkConfiguration(config, deployment));
    }

    /** Wires the pipeline to Kafka on {@code env}; the caller executes it. */
    public static void build(StreamExecutionEnvironment env, JobConfig config) {
        build(env, config, new KafkaEndpoints(config));
    }

    /** Wires the pipeline to {@code endpoints} on {@code env}; the caller executes it. */
    public static void build(
            StreamExecutionEnvironment env, JobConfig config, Pipeline.Endpoints endpoints) {
        // the deployment's parallelism (flink run -p, parallelism.default) unless configured
        Integer parallelism = config.get(JobOptions.PARALLELISM);
        if (parallelism != null) {
            env.setParallelism(parallelism);
        }
        Pipeline.build(env, endpoints, config, Pipeline.schemas(config));
    }

    /**
     * {@code --config FILE} (or {@code --config-file FILE}) plus {@code --key value} or {@code
     * --key=value} overrides.
     */
    public static JobConfig parseArgs(String[] args) throws java.io.IOException {
        Path file = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--") || arg.length() == 2) {
                throw new IllegalArgumentException(
                        "expected --config FILE or --key value, got '" + arg + "'");
            }
            String key;
            String value;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                key = arg.substring(2, eq);
                value = arg.substring(eq + 1);
            } else {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("option '" + arg + "' needs a value");
                }
                key = arg.substring(2);
                value = args[++i];
            }
            // --config-file: the same, for launchers that take --config as a prefix of their own
            // options (the Flink image's standalone-job entry point reads it as --configDir)
            if (key.equals("config") || key.equals("config-file")) {
                file = Path.of(value);
            } else {
                overrides.put(key, value);
            }
        }
        if (file == null) {
            return JobConfig.fromFlat(overrides);
        }
        if (!java.nio.file.Files.isReadable(file)) {
            throw new ConfigException(List.of("configuration file '" + file + "' cannot be read"));
        }
        return JobConfig.load(file, overrides);
    }
}
