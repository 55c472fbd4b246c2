package io.canaryflow.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.canaryflow.jobs.InferenceJob;
import io.canaryflow.jobs.Pipeline;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.records.FeatureEventJson;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * End-to-end events/s through Kafka on this machine: a real in-process broker, the real inference
 * job (decode, route, batched ONNX scoring, exactly-once Kafka sinks, RocksDB, checkpoints every 2
 * s) on a local Flink with parallelism 2. The events are produced first; the job then drains them
 * (bounded source). Throughput after warm-up = the last 75 % of events over the time between their
 * first and last {@code scored_at}; wall time including start-up is reported too.
 *
 * <p>Run with {@code bin/benchmark e2e}.
 */
public final class EndToEndBenchmark {
    /**
     * What {@code -Dbench.modes} may list: the pass-through reference; the job with monitoring off,
     * on, on with labels (a label for every other event), on with control (the judge); and {@code
     * demo}, the configuration users run — configs/demo.yaml's experiments (two canaries and a
     * shadow, labels, control), the events spread over its three experiments.
     */
    static final List<String> MODES =
            List.of("pass-through", "off", "on", "on + labels", "on + control", "demo");

    public static void main(String[] args) throws Exception {
        int events = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        Path work = Files.createTempDirectory("canaryflow-bench-e2e");
        try (KafkaTestCluster kafka = KafkaTestCluster.start()) {
            TestModels.generate(work.resolve("models"));
            List<String> modes =
                    List.of(
                            System.getProperty("bench.modes", "pass-through,off,on,on + labels")
                                    .split(","));
            for (String mode : modes) {
                if (!MODES.contains(mode)) {
                    throw new IllegalArgumentException(
                            "bench.modes: unknown mode '"
                                    + mode
                                    + "'; the modes are "
                                    + String.join(", ", MODES));
                }
            }
            for (String t : List.of("features", "labels", "dead-letters", "monitoring")) {
                kafka.createTopic(t, 2);
            }
            produce(kafka, events, modes.contains("demo"));
            // Same events, same machine, same run: off, on, on with labels, twice. The first
            // round warms up the JVM (the second job of a JVM runs much faster); the second round
            // is reported.
            List<String> rows = new ArrayList<>();
            int round = 0;
            for (int r = 0; r < 2; r++) {
                double reference = Double.NaN;
                for (String mode : modes) {
                    Result result =
                            mode.equals("pass-through")
                                    ? passThrough(kafka, work, events, round++)
                                    : run(kafka, work, events, mode, round++);
                    if (mode.equals("pass-through")) {
                        reference = result.steady();
                    }
                    if (r == 1) {
                        rows.add(result.row(reference));
                    }
                }
            }
            System.out.printf(
                    "%n| job | events | parallelism | events/s after warm-up (last 75 %%) | ratio to pass-through | wall time incl. start-up (s) | events/s incl. start-up | CPU per event incl. start-up (µs, all threads) | scoring latency p50 / p99 (µs) |%n"
                            + "|---|---:|---:|---:|---:|---:|---:|---:|---:|%n%s%n",
                    String.join("\n", rows));
        }
    }

    /**
     * The CPU time of this process so far (every thread: the job's, Kafka's, RocksDB's native
     * ones), a measure of work less sensitive than events/s to what else the machine runs.
     */
    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean)
                        java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /**
     * One job's figures; {@code steady} is events/s after warm-up, {@code cpuPerEvent} the
     * process's CPU time per event over the job's run (start-up included).
     */
    record Result(
            String label,
            int events,
            double steady,
            double wall,
            double cpuPerEvent,
            long p50,
            long p99) {
        String row(double reference) {
            return String.format(
                    "| %s | %,d | 2 | %,.0f | %s | %.1f | %,.0f | %.1f | %s |",
                    label,
                    events,
                    steady,
                    Double.isNaN(reference) ? "" : String.format("%.2f", steady / reference),
                    wall,
                    events / wall,
                    cpuPerEvent,
                    p50 < 0 ? "" : p50 + " / " + p99);
        }
    }

    /**
     * The reference: the same records Kafka → Kafka through Flink with the same parallelism, state
     * backend, checkpointing and exactly-once sink, and no processing. Each record goes out as it
     * came in, stamped with the time it was written.
     */
    static Result passThrough(KafkaTestCluster kafka, Path work, int events, int round)
            throws Exception {
        String name = "pass-through-" + round;
        kafka.createTopic(name, 2);
        Map<String, String> c = new LinkedHashMap<>();
        c.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        c.put("models.repository", work.resolve("models").toString());
        c.put("state.backend", System.getProperty("bench.backend", "rocksdb"));
        c.put("checkpoint.interval", "2 s");
        c.put("checkpoint.directory", work.resolve("checkpoints-" + name).toUri().toString());
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        // the job's own Flink settings (checkpointing, state backend, object reuse), on the same
        // embedded Flink
        Configuration flink = Pipeline.localConfiguration(JobConfig.fromFlat(c));
        flink.set(CoreOptions.TMP_DIRS, work.resolve("tmp").toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(flink);
        env.setParallelism(2);
        org.apache.flink.connector.kafka.source.KafkaSource<byte[][]> source =
                org.apache.flink.connector.kafka.source.KafkaSource.<byte[][]>builder()
                        .setBootstrapServers(kafka.bootstrapServers())
                        .setTopics("features")
                        .setGroupId("bench-" + name)
                        .setStartingOffsets(
                                org.apache.flink.connector.kafka.source.enumerator.initializer
                                        .OffsetsInitializer.earliest())
                        .setBounded(
                                org.apache.flink.connector.kafka.source.enumerator.initializer
                                        .OffsetsInitializer.latest())
                        .setProperty("isolation.level", "read_committed")
                        .setDeserializer(new RawRecords())
                        .build();
        env.fromSource(
                        source,
                        org.apache.flink.api.common.eventtime.WatermarkStrategy.noWatermarks(),
                        "features")
                .sinkTo(
                        org.apache.flink.connector.kafka.sink.KafkaSink.<byte[][]>builder()
                                .setBootstrapServers(kafka.bootstrapServers())
                                .setDeliveryGuarantee(
                                        org.apache.flink.connector.base.DeliveryGuarantee
                                                .EXACTLY_ONCE)
                                .setTransactionalIdPrefix("bench-" + name)
                                .setProperty("transaction.timeout.ms", "900000")
                                .setRecordSerializer(
                                        (record, context, timestamp) ->
                                                new org.apache.kafka.clients.producer
                                                        .ProducerRecord<>(
                                                        name,
                                                        null,
                                                        System.currentTimeMillis(),
                                                        record[0],
                                                        record[1]))
                                .build());
        long started = System.nanoTime();
        long cpu = processCpuNanos();
        env.execute("e2e-benchmark-" + name);
        double wall = (System.nanoTime() - started) / 1e9;
        double cpuPerEvent = (processCpuNanos() - cpu) / 1e3 / events;
        List<ConsumerRecord<byte[], byte[]>> out =
                kafka.readCommitted(name, events, Duration.ofSeconds(2), Duration.ofSeconds(60));
        if (out.size() != events) {
            throw new IllegalStateException("expected " + events + " records, read " + out.size());
        }
        long[] writtenAt = new long[out.size()];
        for (int i = 0; i < writtenAt.length; i++) {
            writtenAt[i] = out.get(i).timestamp();
        }
        return new Result("pass-through", events, steady(writtenAt), wall, cpuPerEvent, -1, -1);
    }

    /** Events/s over the last 75 % of the output times; the first quarter is JIT warm-up. */
    static double steady(long[] times) {
        java.util.Arrays.sort(times);
        int from = times.length / 4;
        return (times.length - from) / ((times[times.length - 1] - times[from]) / 1e3);
    }

    /** Kafka records as (key, value), untouched. */
    static final class RawRecords
            implements org.apache.flink.connector.kafka.source.reader.deserializer
                            .KafkaRecordDeserializationSchema<
                    byte[][]> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record,
                org.apache.flink.util.Collector<byte[][]> out) {
            out.collect(new byte[][] {record.key(), record.value()});
        }

        @Override
        public org.apache.flink.api.common.typeinfo.TypeInformation<byte[][]> getProducedType() {
            return org.apache.flink.api.common.typeinfo.TypeInformation.of(byte[][].class);
        }
    }

    static Result run(KafkaTestCluster kafka, Path work, int events, String mode, int round)
            throws Exception {
        String name = mode.replace(" + ", "-") + "-" + round;
        kafka.createTopic("predictions-" + name, 2);
        Map<String, String> c = new LinkedHashMap<>();
        if (mode.equals("demo")) {
            kafka.createTopic("control-" + name, 1);
            c.put("kafka.bootstrap-servers", kafka.bootstrapServers());
            c.put("kafka.bounded", "true");
            c.put("kafka.group-id", "bench-" + name);
            c.put("kafka.transactional-id-prefix", "bench-" + name);
            c.put("kafka.topics.features", "features-demo");
            c.put("kafka.topics.predictions", "predictions-" + name);
            c.put("kafka.topics.control", "control-" + name);
            c.put("control.key", "benchmark-control-key-0123456789");
            c.put("state.backend", System.getProperty("bench.backend", "rocksdb"));
            c.put("models.repository", work.resolve("models").toString());
            c.put("checkpoint.directory", work.resolve("checkpoints-" + name).toUri().toString());
            c.putAll(jobOverrides());
            return execute(
                    kafka,
                    work,
                    JobConfig.load(Path.of("configs/demo.yaml"), c),
                    events,
                    name,
                    "demo configuration (configs/demo.yaml: two canaries, a shadow, labels, control)");
        }
        c.put("job.parallelism", "2");
        c.put("kafka.bootstrap-servers", kafka.bootstrapServers());
        c.put("kafka.bounded", "true");
        c.put("kafka.starting-offsets", "earliest");
        c.put("kafka.group-id", "bench-" + name);
        c.put("kafka.transactional-id-prefix", "bench-" + name);
        c.put("kafka.topics.predictions", "predictions-" + name);
        c.put("monitoring.enabled", String.valueOf(!mode.equals("off")));
        c.put("labels.enabled", String.valueOf(mode.equals("on + labels")));
        if (mode.equals("on + control")) {
            // the judge too, reading commands from and writing decisions to a control topic
            kafka.createTopic("control-" + name, 1);
            c.put("control.enabled", "true");
            c.put("control.key", "benchmark-control-key-0123456789");
            c.put("kafka.topics.control", "control-" + name);
        }
        c.put("labels.horizon", "10 s");
        c.put("state.backend", System.getProperty("bench.backend", "rocksdb"));
        c.put("models.repository", work.resolve("models").toString());
        c.put("checkpoint.interval", "2 s");
        c.put("checkpoint.directory", work.resolve("checkpoints-" + name).toUri().toString());
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "10");
        c.putAll(jobOverrides());
        return execute(
                kafka, work, JobConfig.fromFlat(c), events, name, "Canaryflow, monitoring " + mode);
    }

    /**
     * {@code -Dbench.job.<key>=<value>}: a job setting for every mode, over the benchmark's own,
     * for an experiment (e.g. {@code -Dbench.job.labels.enabled=false} runs the demo without
     * labels).
     */
    static Map<String, String> jobOverrides() {
        Map<String, String> overrides = new LinkedHashMap<>();
        for (String property : System.getProperties().stringPropertyNames()) {
            if (property.startsWith("bench.job.")) {
                overrides.put(
                        property.substring("bench.job.".length()), System.getProperty(property));
            }
        }
        return overrides;
    }

    /** Runs the job of {@code config} over the produced events and reads its predictions. */
    static Result execute(
            KafkaTestCluster kafka,
            Path work,
            JobConfig config,
            int events,
            String name,
            String label)
            throws Exception {
        Configuration flink = Pipeline.localConfiguration(config);
        if (System.getProperty("bench.timers") != null) {
            flink.setString(
                    "state.backend.rocksdb.timer-service.factory",
                    System.getProperty("bench.timers"));
        }
        // -Dbench.flink.<key>=<value> sets any Flink option, e.g. a RocksDB one, for an experiment.
        for (String property : System.getProperties().stringPropertyNames()) {
            if (property.startsWith("bench.flink.")) {
                flink.setString(
                        property.substring("bench.flink.".length()), System.getProperty(property));
            }
        }
        flink.set(CoreOptions.TMP_DIRS, work.resolve("tmp").toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(flink);
        InferenceJob.build(env, config);
        long started = System.nanoTime();
        long cpu = processCpuNanos();
        // the sampler costs CPU of its own (0.2-0.9 µs per event): only when asked for
        try (ThreadCpu threads = Boolean.getBoolean("bench.threads") ? new ThreadCpu() : null) {
            env.execute("e2e-benchmark-monitoring-" + name);
            if (threads != null) {
                System.out.printf("%nCPU per event by thread group, %s (µs):%n", label);
                threads.perEvent(events)
                        .forEach(
                                (group, micros) -> {
                                    if (micros >= 0.05) {
                                        System.out.printf("  %6.2f  %s%n", micros, group);
                                    }
                                });
            }
        }
        double wall = (System.nanoTime() - started) / 1e9;
        double cpuPerEvent = (processCpuNanos() - cpu) / 1e3 / events;

        // a shadow's events are scored twice: the served prediction and the shadow's
        int expected = (int) (events + shadowEvents(config, events));
        List<ConsumerRecord<byte[], byte[]>> out =
                kafka.readCommitted(
                        "predictions-" + name,
                        expected,
                        Duration.ofSeconds(2),
                        Duration.ofSeconds(60));
        if (out.size() != expected) {
            throw new IllegalStateException(
                    "expected " + expected + " predictions, read " + out.size());
        }
        ObjectMapper json = new ObjectMapper();
        long[] scoredAt = new long[events];
        long[] latencies = new long[events];
        int i = 0;
        for (ConsumerRecord<byte[], byte[]> r : out) {
            JsonNode p = json.readTree(r.value());
            if (p.get("served").asBoolean() && i < events) {
                scoredAt[i] = p.get("scored_at").asLong();
                latencies[i++] = p.get("latency_us").asLong();
            }
        }
        if (i != events) {
            throw new IllegalStateException("expected " + events + " served, read " + i);
        }
        out.clear();
        java.util.Arrays.sort(latencies);
        return new Result(
                label,
                events,
                steady(scoredAt),
                wall,
                cpuPerEvent,
                latencies[latencies.length / 2],
                latencies[(int) (latencies.length * 0.99)]);
    }

    /** How many of the events belong to a shadow experiment of {@code config} (see produce). */
    static long shadowEvents(JobConfig config, int events) {
        if (config.plans().size() == 1) {
            return config.plans().get(0).mode()
                            == io.canaryflow.operators.routing.RolloutPlan.Mode.SHADOW
                    ? events
                    : 0;
        }
        List<String> experiments = List.of("fraud", "fraud-risky", "fraud-shadow");
        long shadow = 0;
        for (int i = 0; i < events; i++) {
            String experiment = experiments.get((i % 50_000) % experiments.size());
            if (config.plans().stream()
                    .anyMatch(
                            p ->
                                    p.experiment().equals(experiment)
                                            && p.mode()
                                                    == io.canaryflow.operators.routing.RolloutPlan
                                                            .Mode.SHADOW)) {
                shadow++;
            }
        }
        return shadow;
    }

    /**
     * The events (to {@code features}, and with {@code demo} the same events spread over the demo's
     * three experiments to {@code features-demo}) and a label for every other one.
     */
    static void produce(KafkaTestCluster kafka, int events, boolean demo) throws Exception {
        produceFeatures(kafka, "features", events, List.of("fraud"));
        if (demo) {
            kafka.createTopic("features-demo", 2);
            produceFeatures(
                    kafka,
                    "features-demo",
                    events,
                    List.of("fraud", "fraud-risky", "fraud-shadow"));
        }
        List<byte[][]> chunk = new ArrayList<>();
        // A label for every other event, 2 s of event time after it.
        for (int i = 0; i < events; i += 2) {
            String id = "e-" + i;
            chunk.add(
                    new byte[][] {
                        id.getBytes(StandardCharsets.UTF_8),
                        String.format(
                                        "{\"event_id\":\"%s\",\"label\":%d,\"ts\":%d}",
                                        id, i % 7 == 0 ? 1 : 0, 1_700_000_002_000L + i)
                                .getBytes(StandardCharsets.UTF_8)
                    });
            if (chunk.size() == 50_000) {
                kafka.produce("labels", chunk);
                chunk.clear();
            }
        }
        kafka.produce("labels", chunk);
    }

    private static void produceFeatures(
            KafkaTestCluster kafka, String topic, int events, List<String> experiments) {
        SyntheticFraud data = new SyntheticFraud(11);
        FeatureEventJson json = new FeatureEventJson();
        List<byte[][]> chunk = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            String unit = "user-" + (i % 50_000);
            chunk.add(
                    new byte[][] {
                        unit.getBytes(StandardCharsets.UTF_8),
                        json.write(
                                "e-" + i,
                                unit,
                                // each unit in one experiment
                                experiments.get((i % 50_000) % experiments.size()),
                                1_700_000_000_000L + i,
                                SyntheticFraud.FEATURES,
                                data.next().features(),
                                Map.of("country", "DE"))
                    });
            if (chunk.size() == 50_000) {
                kafka.produce(topic, chunk);
                chunk.clear();
            }
        }
        kafka.produce(topic, chunk);
    }
}
