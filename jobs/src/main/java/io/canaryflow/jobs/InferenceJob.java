package io.canaryflow.jobs;

import io.canaryflow.jobs.config.ConfigException;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.config.JobOptions;
import io.canaryflow.jobs.kafka.KafkaEndpoints;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
        try {
            config = parseArgs(args);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println(e.getMessage());
            throw e;
        }
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.getExecutionEnvironment(
                        Pipeline.flinkConfiguration(config));
        build(env, config);
        env.execute(config.get(JobOptions.JOB_NAME));
    }

    /** Wires the pipeline to Kafka on {@code env}; the caller executes it. */
    public static void build(StreamExecutionEnvironment env, JobConfig config) {
        build(env, config, new KafkaEndpoints(config));
    }

    /** Wires the pipeline to {@code endpoints} on {@code env}; the caller executes it. */
    public static void build(
            StreamExecutionEnvironment env, JobConfig config, Pipeline.Endpoints endpoints) {
        env.setParallelism(config.get(JobOptions.PARALLELISM));
        Pipeline.build(env, endpoints, config, Pipeline.schemas(config));
    }

    /** {@code --config FILE} plus {@code --key value} or {@code --key=value} overrides. */
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
            if (key.equals("config")) {
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
