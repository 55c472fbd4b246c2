package io.canaryflow.jobs.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.canaryflow.jobs.InferenceJob;
import io.canaryflow.jobs.Pipeline;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.config.JobOptions;
import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.operators.routing.RolloutPlan;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A soak run of the embedded stack (in-process Kafka, local Flink, the demo's configuration with
 * labels and control on): first the job's maximum rate is measured with an unthrottled producer,
 * then the producer runs at a fraction of it for the given minutes. Every sample prints events/s in
 * and processed, consumer lag, heap after GC, and checkpoints; the end says PASS or FAIL against:
 * heap after GC flat, no failed checkpoint, lag bounded.
 *
 * <pre>
 * --minutes N          soak duration (default 30)
 * --fraction F         share of the measured maximum rate to produce at (default 0.5)
 * --rate N             produce at N events/s instead of measuring the maximum
 * --calibrate-seconds  how long the maximum is measured (default: twice the time label state
 *                      takes to reach its size, 2 x (2 x labels.horizon + monitoring.window),
 *                      at least 60)
 * --sample-seconds N   seconds between samples (default 30)
 * --work DIR           models, checkpoints (default target/soak)
 * --config FILE        job configuration (default configs/demo.yaml)
 * --web-port N         Flink web UI / REST port (default 8082)
 * </pre>
 */
@Command(
        name = "soak",
        mixinStandardHelpOptions = true,
        versionProvider = io.canaryflow.modelloader.tools.Version.class,
        description =
                "Soak the embedded stack: measure the job's maximum rate, then produce at a share of it and check heap, checkpoints and lag.")
public final class SoakMain implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(
            names = "--minutes",
            defaultValue = "30",
            description = "Soak duration (default: ${DEFAULT-VALUE}).")
    double minutes;

    @Option(
            names = "--fraction",
            defaultValue = "0.5",
            description =
                    "Share of the measured maximum rate to produce at (default: ${DEFAULT-VALUE}).")
    double fraction;

    @Option(
            names = "--rate",
            description = "Produce at this rate instead of measuring the maximum.")
    Integer fixedRate;

    @Option(
            names = "--calibrate-seconds",
            description =
                    "How long the maximum is measured, over its second half (default: 2 x (2 x labels.horizon + monitoring.window), at least 60).")
    Integer calibrate;

    @Option(
            names = "--sample-seconds",
            defaultValue = "30",
            description = "Seconds between samples (default: ${DEFAULT-VALUE}).")
    int sampleSeconds;

    @Option(
            names = "--work",
            defaultValue = "target/soak",
            description = "Models, checkpoints (default: ${DEFAULT-VALUE}).")
    Path workDir;

    @Option(
            names = "--config",
            defaultValue = "configs/demo.yaml",
            description = "Job configuration (default: ${DEFAULT-VALUE}).")
    Path configFile;

    @Option(
            names = "--web-port",
            defaultValue = "8082",
            description = "Flink web UI / REST port (default: ${DEFAULT-VALUE}).")
    int webPort;

    /** One sample of the soak. */
    record Sample(
            double minutes,
            double producedPerSecond,
            double processedPerSecond,
            long lag,
            long heapAfterGcBytes,
            long checkpointsCompleted,
            long checkpointsFailed,
            long lastCheckpointMillis,
            long maxCheckpointMillis) {}

    public static void main(String[] args) {
        io.canaryflow.jobs.cli.Cli.main(new SoakMain(), args);
    }

    @Override
    public Integer call() throws Exception {
        Path work = workDir.toAbsolutePath();
        Files.createDirectories(work);
        Path models = work.resolve("models");
        if (!Files.exists(
                models.resolve(DemoModels.MODEL)
                        .resolve(DemoModels.BAD_CANDIDATE)
                        .resolve(ModelRepository.MANIFEST_FILE))) {
            for (Manifest m : DemoModels.generate(models, 7, 40_000, 10_000)) {
                say("trained %s/%s", m.model(), m.version());
            }
        }
        try (EmbeddedKafka kafka =
                EmbeddedKafka.start(work.resolve("kafka-" + System.currentTimeMillis()))) {
            String bootstrap = kafka.bootstrapServers();
            Map<String, String> overrides = new HashMap<>();
            overrides.put(JobOptions.BOOTSTRAP_SERVERS.key(), bootstrap);
            overrides.put(JobOptions.MODEL_REPOSITORY.key(), models.toString());
            overrides.put(
                    JobOptions.CHECKPOINT_DIRECTORY.key(),
                    work.resolve("checkpoints").toUri().toString());
            overrides.put(JobOptions.CONTROL_KEY.key(), "soak-control-key-0123456789abcdef");
            JobConfig config = JobConfig.load(configFile, overrides);
            DemoMain.createTopics(bootstrap, config);
            Configuration flink = Pipeline.localConfiguration(config);
            flink.set(RestOptions.PORT, webPort);
            flink.set(CoreOptions.TMP_DIRS, work.resolve("tmp").toString());
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(flink);
            InferenceJob.build(env, config);
            JobClient job = env.executeAsync(config.get(JobOptions.JOB_NAME) + "-soak");
            DemoMain.awaitRunning(job);
            List<String> experiments =
                    config.plans().stream().map(RolloutPlan::experiment).toList();
            Probe probe =
                    new Probe(
                            bootstrap,
                            config.get(JobOptions.GROUP_ID),
                            config.get(JobOptions.FEATURES_TOPIC),
                            config.get(JobOptions.PREDICTIONS_TOPIC),
                            webPort,
                            job.getJobID().toHexString());
            int rate;
            double drainRatio = Double.NaN;
            if (fixedRate != null) {
                rate = fixedRate;
            } else {
                int seconds = calibrate != null ? calibrate : calibrationSeconds(config);
                say("measuring the maximum rate for %d s (producer unthrottled) ...", seconds);
                double[] measured = calibrate(bootstrap, config, experiments, probe, seconds);
                double max = measured[0];
                drainRatio = measured[1];
                rate = (int) Math.max(1, Math.round(max * fraction));
                say(
                        "maximum %,.0f events/s; soaking at %.0f %% of it: %,d events/s",
                        max, 100 * fraction, rate);
            }
            List<Sample> samples =
                    soak(bootstrap, config, experiments, probe, rate, minutes, sampleSeconds);
            job.cancel().get(60, TimeUnit.SECONDS);
            boolean pass =
                    verdict(samples, rate, config.get(JobOptions.CHECKPOINT_INTERVAL), drainRatio);
            return pass ? 0 : 1;
        }
    }

    /**
     * Produces as fast as the producer can for {@code seconds}; the maximum is the rate the job
     * committed over the last half, then the backlog drains before the soak starts: returns the
     * maximum (events/s) and the ratio of the job's rate while it drained to its rate at the
     * maximum.
     *
     * <p>Both rates in that ratio are read from the job's output as it is written (the predictions
     * topic's end offsets, transactions not yet committed included), polled every {@value
     * #DRAIN_POLL_MS} ms: committed offsets move only when a checkpoint completes, which under a
     * backlog takes seconds, so a drain of a few seconds timed by them ends late by up to a
     * checkpoint interval plus a checkpoint's duration.
     */
    private static double[] calibrate(
            String bootstrap, JobConfig config, List<String> experiments, Probe probe, int seconds)
            throws Exception {
        SyntheticProducer producer = producer(bootstrap, config, experiments, 10_000_000);
        Thread thread = new Thread(producer, "soak-calibration");
        thread.start();
        Thread.sleep(seconds * 500L);
        long committedBefore = probe.committed();
        long writtenBefore = probe.written();
        long at = System.nanoTime();
        Thread.sleep(seconds * 500L);
        long writtenAfter = probe.written();
        double half = (System.nanoTime() - at) / 1e9;
        double max = (probe.committed() - committedBefore) / half;
        double maxOutput = (writtenAfter - writtenBefore) / half;
        producer.stop();
        thread.join(30_000);
        producer.close();
        long lag = probe.lag();
        say(
                "calibration: %,d events produced; lag %,d at its end (a positive lag means the job was the bottleneck)",
                producer.produced(), lag);
        long drainStart = System.nanoTime();
        long deadline = drainStart + TimeUnit.MINUTES.toNanos(10);
        long writtenAtStart = probe.written();
        List<long[]> output = new ArrayList<>(); // (nanos since the start, written)
        long left = lag;
        while (System.nanoTime() < deadline) {
            output.add(new long[] {System.nanoTime() - drainStart, probe.written()});
            if ((left = probe.lag()) <= 0) {
                break;
            }
            Thread.sleep(DRAIN_POLL_MS);
        }
        double drainSeconds = (System.nanoTime() - drainStart) / 1e9;
        long writtenAtEnd = output.get(output.size() - 1)[1];
        // the output's end: the first poll within a hair of its final count (a transaction's
        // commit marker takes an offset of its own after the last record)
        long hair = Math.max(100, (writtenAtEnd - writtenAtStart) / 1000);
        double outputSeconds = drainSeconds;
        for (long[] o : output) {
            if (o[1] >= writtenAtEnd - hair) {
                outputSeconds = Math.max(DRAIN_POLL_MS / 1e3, o[0] / 1e9);
                break;
            }
        }
        double drainOutput = (writtenAtEnd - writtenAtStart) / outputSeconds;
        double ratio = maxOutput > 0 ? drainOutput / maxOutput : Double.NaN;
        say(
                "drained %,d of the backlog's %,d events: committed in %.0f s (%,.0f events/s); the job's output %,.0f records/s over %.1f s against %,.0f/s at the maximum: %.2f",
                lag - Math.max(0, left),
                lag,
                drainSeconds,
                (lag - Math.max(0, left)) / drainSeconds,
                drainOutput,
                outputSeconds,
                maxOutput,
                ratio);
        return new double[] {max, left > 0 ? 0 : ratio};
    }

    /**
     * The calibration's default length: twice the time the label join's state takes to reach its
     * size (predictions kept for twice the horizon, removed a cleanup step of at most a window
     * later), so that the maximum, measured over the second half, is one the job sustains with that
     * state, its cleanup included; at least 60 s. Over the first minute, with the demo's 30 s
     * horizon, it measured the job before it had removed anything.
     */
    static int calibrationSeconds(JobConfig config) {
        long steady =
                config.get(JobOptions.LABELS_ENABLED)
                        ? 2 * config.get(JobOptions.LABEL_HORIZON).toSeconds()
                                + config.get(JobOptions.MONITORING_WINDOW).toSeconds()
                        : 0;
        return (int) Math.max(60, 2 * steady);
    }

    /** How often the drain's output is read (ms). */
    static final int DRAIN_POLL_MS = 250;

    private static List<Sample> soak(
            String bootstrap,
            JobConfig config,
            List<String> experiments,
            Probe probe,
            int rate,
            double minutes,
            int sampleSeconds)
            throws Exception {
        SyntheticProducer producer = producer(bootstrap, config, experiments, rate);
        Thread thread = new Thread(producer, "soak-producer");
        long started = System.nanoTime();
        thread.start();
        System.out.printf(
                "%n| minute | produced/s | processed/s | lag | heap after GC (MB) | checkpoints ok / failed | last / max checkpoint (ms) |%n"
                        + "|---:|---:|---:|---:|---:|---:|---:|%n");
        List<Sample> samples = new ArrayList<>();
        long producedBefore = 0;
        long committedBefore = probe.committed();
        long checkpointsBefore = probe.checkpoints().path("counts").path("failed").asLong();
        long before = System.nanoTime();
        long end = started + (long) (minutes * 60e9);
        while (System.nanoTime() < end) {
            Thread.sleep(
                    Math.min(
                            sampleSeconds * 1_000L,
                            Math.max(1, (end - System.nanoTime()) / 1_000_000)));
            long now = System.nanoTime();
            double seconds = (now - before) / 1e9;
            long produced = producer.produced();
            long committed = probe.committed();
            JsonNode checkpoints = probe.checkpoints();
            Sample s =
                    new Sample(
                            (now - started) / 60e9,
                            (produced - producedBefore) / seconds,
                            (committed - committedBefore) / seconds,
                            probe.lag(),
                            heapAfterGc(),
                            checkpoints.path("counts").path("completed").asLong(),
                            checkpoints.path("counts").path("failed").asLong() - checkpointsBefore,
                            checkpoints
                                    .path("latest")
                                    .path("completed")
                                    .path("end_to_end_duration")
                                    .asLong(-1),
                            checkpoints
                                    .path("summary")
                                    .path("end_to_end_duration")
                                    .path("max")
                                    .asLong(-1));
            samples.add(s);
            System.out.printf(
                    "| %.1f | %,.0f | %,.0f | %,d | %,.0f | %d / %d | %d / %d |%n",
                    s.minutes(),
                    s.producedPerSecond(),
                    s.processedPerSecond(),
                    s.lag(),
                    s.heapAfterGcBytes() / 1e6,
                    s.checkpointsCompleted(),
                    s.checkpointsFailed(),
                    s.lastCheckpointMillis(),
                    s.maxCheckpointMillis());
            producedBefore = produced;
            committedBefore = committed;
            before = now;
        }
        producer.stop();
        thread.join(30_000);
        producer.close();
        return samples;
    }

    /**
     * PASS when, over the second half of the samples (the first half is warm-up: JIT, RocksDB,
     * label state reaching its horizon), the heap after GC grows by less than {@code max(64 MB, 10
     * %)} along a least-squares line, no checkpoint failed during the whole soak, and the lag over
     * the second half never exceeds what two checkpoint intervals plus 10 s of traffic make
     * (offsets are committed at checkpoints, so the lag seen through them saws up to one interval).
     * The first half also absorbs the calibration's aftermath: the label join expires the
     * predictions whose labels the stopped calibration producer never sent. After a calibration,
     * its backlog must also have drained at no less than 0.9 of the maximum rate measured (the job
     * keeps its speed after a burst; 0.9 allows for the measurement's own noise).
     */
    static boolean verdict(
            List<Sample> samples, int rate, Duration checkpointInterval, double drainRatio) {
        if (samples.size() < 4) {
            say("FAIL: too few samples (%d) to judge; run longer", samples.size());
            return false;
        }
        List<Sample> late = samples.subList(samples.size() / 2, samples.size());
        double[] x = late.stream().mapToDouble(Sample::minutes).toArray();
        double[] y = late.stream().mapToDouble(s -> s.heapAfterGcBytes() / 1e6).toArray();
        double slope = slope(x, y); // MB per minute
        double growth = slope * (x[x.length - 1] - x[0]);
        double mean = java.util.Arrays.stream(y).average().orElse(0);
        boolean heapFlat = growth < Math.max(64, 0.10 * mean);
        long failed = samples.get(samples.size() - 1).checkpointsFailed();
        long lagBound = (long) (rate * (2 * checkpointInterval.toMillis() / 1e3 + 10));
        long maxLag = late.stream().mapToLong(Sample::lag).max().orElse(0);
        double processed =
                late.stream().mapToDouble(Sample::processedPerSecond).average().orElse(0);
        say(
                "heap after GC over the second half: %.0f MB mean, %+.1f MB/min (%+.0f MB over it) — %s",
                mean, slope, growth, heapFlat ? "flat" : "GROWING");
        say("failed checkpoints during the soak: %d — %s", failed, failed == 0 ? "ok" : "FAILED");
        say(
                "lag over the second half: at most %,d (bound %,d = %,d events/s x (2 checkpoint intervals + 10 s)) — %s",
                maxLag, lagBound, rate, maxLag <= lagBound ? "bounded" : "UNBOUNDED");
        say("processed %,.0f events/s over the second half (produced at %,d)", processed, rate);
        boolean drained = Double.isNaN(drainRatio) || drainRatio >= 0.9;
        if (!Double.isNaN(drainRatio)) {
            say(
                    "the calibration's backlog drained at %.2f of the maximum rate — %s",
                    drainRatio, drained ? "ok" : "SLOW");
        }
        boolean pass = heapFlat && failed == 0 && maxLag <= lagBound && drained;
        say(pass ? "PASS" : "FAIL");
        return pass;
    }

    /** The least-squares slope of y over x. */
    static double slope(double[] x, double[] y) {
        double mx = java.util.Arrays.stream(x).average().orElse(0);
        double my = java.util.Arrays.stream(y).average().orElse(0);
        double sxy = 0;
        double sxx = 0;
        for (int i = 0; i < x.length; i++) {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        return sxx == 0 ? 0 : sxy / sxx;
    }

    /** The heap in use after the last collection of each heap pool, summed (old gen mostly). */
    static long heapAfterGc() {
        System.gc(); // a sample is taken after a full collection, so it counts live data only
        long used = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage after = pool.getCollectionUsage();
            if (pool.getType() == MemoryType.HEAP && after != null) {
                used += after.getUsed();
            }
        }
        return used;
    }

    private static SyntheticProducer producer(
            String bootstrap, JobConfig config, List<String> experiments, int rate) {
        return new SyntheticProducer(
                SyntheticProducer.client(bootstrap),
                config.get(JobOptions.FEATURES_TOPIC),
                experiments,
                rate,
                500,
                50_000,
                0,
                config.get(JobOptions.LABELS_ENABLED) ? config.get(JobOptions.LABELS_TOPIC) : null,
                config.get(JobOptions.LABEL_HORIZON).toMillis());
    }

    /** Reads the job's progress from Kafka (committed offsets, lag) and Flink's REST API. */
    static final class Probe {
        private final Admin admin;
        private final String group;
        private final String topic;
        private final String output;
        private final Map<String, List<TopicPartition>> partitions = new HashMap<>();
        private final HttpClient http = HttpClient.newHttpClient();
        private final URI checkpoints;

        Probe(
                String bootstrap,
                String group,
                String topic,
                String output,
                int webPort,
                String jobId) {
            this.admin = Admin.create(Map.of("bootstrap.servers", bootstrap));
            this.group = group;
            this.topic = topic;
            this.output = output;
            this.checkpoints =
                    URI.create("http://localhost:" + webPort + "/jobs/" + jobId + "/checkpoints");
        }

        /** Offsets the job has committed on the features topic (at its checkpoints), summed. */
        long committed() throws Exception {
            Map<TopicPartition, OffsetAndMetadata> offsets =
                    admin.listConsumerGroupOffsets(group)
                            .partitionsToOffsetAndMetadata()
                            .get(30, TimeUnit.SECONDS);
            return offsets.entrySet().stream()
                    .filter(e -> e.getKey().topic().equals(topic) && e.getValue() != null)
                    .mapToLong(e -> e.getValue().offset())
                    .sum();
        }

        /** End offsets of the features topic minus the job's committed offsets. */
        long lag() throws Exception {
            return Math.max(0, end(topic) - committed());
        }

        /**
         * The predictions topic's end offsets, summed: what the job has written, its open
         * transactions included (read uncommitted), as it writes it.
         */
        long written() throws Exception {
            return end(output);
        }

        private long end(String name) throws Exception {
            List<TopicPartition> partitions = partitions(name);
            Map<TopicPartition, OffsetSpec> latest =
                    partitions.stream().collect(Collectors.toMap(p -> p, p -> OffsetSpec.latest()));
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
                    admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
            return ends.values().stream().mapToLong(i -> i.offset()).sum();
        }

        /** The topic's partitions, described once: the soak's topics keep theirs. */
        private List<TopicPartition> partitions(String name) throws Exception {
            List<TopicPartition> known = partitions.get(name);
            if (known == null) {
                known =
                        admin
                                .describeTopics(List.of(name))
                                .allTopicNames()
                                .get(30, TimeUnit.SECONDS)
                                .get(name)
                                .partitions()
                                .stream()
                                .map(p -> new TopicPartition(name, p.partition()))
                                .toList();
                partitions.put(name, known);
            }
            return known;
        }

        JsonNode checkpoints() throws Exception {
            HttpResponse<String> response =
                    http.send(
                            HttpRequest.newBuilder(checkpoints).GET().build(),
                            HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(response.body());
        }
    }

    private static void say(String format, Object... args) {
        System.out.println("soak | " + String.format(format, args));
    }
}
