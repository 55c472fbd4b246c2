package io.canaryflow.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.kafka.KafkaEndpoints;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.testing.TestModels;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.flink.client.deployment.executors.RemoteExecutor;
import org.apache.flink.client.program.StreamContextEnvironment;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.DefaultExecutorServiceLoader;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.flink.streaming.api.graph.StreamNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the job starts. It runs at the parallelism it is deployed with ({@code flink run -p N},
 * {@code parallelism.default}, a FlinkDeployment's {@code spec.job.parallelism}) unless {@code
 * job.parallelism} pins it. The deployment is Flink's own: the context environment {@code flink
 * run} installs, with the cluster configuration {@code -p} leaves. A configured version without a
 * readable, valid manifest fails the start, named.
 */
class JobStartTest {
    @TempDir static Path work;

    @BeforeAll
    static void models() throws Exception {
        TestModels.generate(work.resolve("models"));
    }

    static Map<String, String> config() {
        Map<String, String> c = new HashMap<>();
        c.put("kafka.bootstrap-servers", "localhost:9");
        c.put("models.repository", work.resolve("models").toString());
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("monitoring.enabled", "true");
        return c;
    }

    /** The parallelism of every operator of the job as {@code flink run -p deployed} builds it. */
    static Set<Integer> parallelisms(int deployed, Map<String, String> c) throws Exception {
        Configuration cluster = new Configuration();
        cluster.set(CoreOptions.DEFAULT_PARALLELISM, deployed); // what -p sets
        return built(cluster, c).getStreamNodes().stream()
                .map(StreamNode::getParallelism)
                .collect(Collectors.toSet());
    }

    /** The configuration the job is submitted with, under {@code flink run} on {@code cluster}. */
    static Map<String, String> submitted(Configuration cluster) throws Exception {
        return built(cluster, config()).getJobConfiguration().toMap();
    }

    /** The job of {@code c} as {@code flink run} on {@code cluster} builds it. */
    static StreamGraph built(Configuration cluster, Map<String, String> c) throws Exception {
        cluster.set(DeploymentOptions.TARGET, RemoteExecutor.NAME);
        StreamContextEnvironment.setAsContext(
                new DefaultExecutorServiceLoader(),
                cluster,
                JobStartTest.class.getClassLoader(),
                false,
                true);
        try {
            JobConfig config = JobConfig.fromFlat(c);
            StreamExecutionEnvironment env = InferenceJob.environment(config);
            InferenceJob.build(env, config, new KafkaEndpoints(config));
            return env.getStreamGraph();
        } finally {
            StreamContextEnvironment.unsetAsContext();
        }
    }

    @Test
    void shouldLeaveTheRocksDbOptionsAClusterSetsToTheCluster() throws Exception {
        Configuration tuned = new Configuration();
        tuned.setString("state.backend.rocksdb.use-bloom-filter", "false");
        Map<String, String> job = submitted(tuned);
        assertThat(job)
                .containsEntry("state.backend.rocksdb.use-bloom-filter", "false")
                .containsEntry(
                        "state.backend.rocksdb.compression.per.level",
                        "NO_COMPRESSION;NO_COMPRESSION;LZ4_COMPRESSION");
        Map<String, String> untuned = submitted(new Configuration());
        assertThat(untuned).containsEntry("state.backend.rocksdb.use-bloom-filter", "true");
    }

    @Test
    void shouldRunAtTheDeploymentsParallelismWhenTheConfigurationSetsNone() throws Exception {
        assertThat(parallelisms(3, config())).containsExactly(3);
        assertThat(parallelisms(5, config())).containsExactly(5);
    }

    @Test
    void shouldRunAtTheConfiguredParallelismWhenTheConfigurationPinsOne() throws Exception {
        Map<String, String> c = config();
        c.put("job.parallelism", "2");
        assertThat(parallelisms(3, c)).containsExactly(2);
    }

    @Test
    void shouldRefuseToStartWithAConfiguredVersionWithoutAReadableValidManifest() throws Exception {
        Map<String, String> c = config();
        c.put("experiments.fraud.candidate", "v9");
        JobConfig config = JobConfig.fromFlat(c);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Pipeline.schemas(config))
                .isInstanceOf(io.canaryflow.jobs.config.ConfigException.class)
                .hasMessageContaining("experiments.fraud: version 'v9'")
                .hasMessageContaining("cannot read manifest");
        java.nio.file.Path broken = work.resolve("models").resolve(DemoModels.MODEL).resolve("v8");
        java.nio.file.Files.createDirectories(broken);
        java.nio.file.Files.writeString(broken.resolve("manifest.json"), "{\"model\": 3");
        c.put("experiments.fraud.candidate", "v8");
        JobConfig invalid = JobConfig.fromFlat(c);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Pipeline.schemas(invalid))
                .hasMessageContaining("experiments.fraud: version 'v8'")
                .hasMessageContaining("is not valid");
    }

    @Test
    void shouldRefuseABadConfigurationOnceWithEveryProblemAndNoStackTrace() throws Exception {
        java.nio.file.Path file = work.resolve("bad.yaml");
        java.nio.file.Files.writeString(
                file,
                "monitoring:\n  window: -10 s\nscoring:\n  max-batch: 0\nexperiments:\n"
                        + "  fraud:\n    baseline: v1\n    canary-percent: 150\n");
        Process p =
                new ProcessBuilder(
                                java.nio.file.Path.of(
                                                System.getProperty("java.home"), "bin", "java")
                                        .toString(),
                                "-cp",
                                System.getProperty("java.class.path"),
                                InferenceJob.class.getName(),
                                "--config",
                                file.toString())
                        .redirectErrorStream(true)
                        .start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isEqualTo(2);
        assertThat(output)
                .contains("'-10 s' for key 'monitoring.window'")
                .contains("'scoring.max-batch' must be at least 1")
                .contains("canary-percent")
                .contains("'kafka.bootstrap-servers' is required")
                .doesNotContain("Exception")
                .doesNotContain("\tat ");
        assertThat(output.split("monitoring.window", -1)).hasSize(2); // said once
    }
}
