package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.modelloader.tools.DemoModels;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.RecordingInterceptor;
import io.canaryflow.testing.TestModels;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kafka.properties.*} reach every Kafka client the job creates (its sources and its
 * exactly-once sinks), with Kafka's config providers resolving {@code ${env:...}} in each, as the
 * shipped SASL example relies on. The shipped example's secret itself resolves from the
 * environment.
 */
class KafkaClientPropertiesITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @TempDir static Path work;
    static KafkaTestCluster kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        TestModels.generate(work.resolve("models"));
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    @Test
    void shouldResolveTheShippedSaslExamplesPasswordFromTheEnvironment() throws Exception {
        JobConfig shipped =
                JobConfig.load(
                        Path.of("..", "configs", "inference.yaml"),
                        Map.of("control.key", "0123456789abcdef0123"));
        Properties p = shipped.kafkaProperties();
        p.put("bootstrap.servers", "localhost:9092");
        p.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        p.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
        ProducerConfig resolved = new ProducerConfig(p);
        assertThat(System.getenv("KAFKA_PASSWORD")).isEqualTo("secret-from-the-environment");
        assertThat(resolved.getPassword("sasl.jaas.config").value())
                .contains("password=\"secret-from-the-environment\";")
                .doesNotContain("${");
    }

    @Test
    void shouldGiveEveryKafkaClientOfTheJobItsConfiguredProperties(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        String name = "props";
        Map<String, String> c = InferenceJobITCase.config(kafka.clients(), work, name);
        kafka.clients().createTopic(name + "-control", 1);
        kafka.clients().createTopic(name + "-labels", 1);
        c.put("kafka.topics.control", name + "-control");
        c.put("kafka.topics.labels", name + "-labels");
        c.put("labels.enabled", "true");
        c.put("monitoring.enabled", "true");
        c.put("control.enabled", "true");
        c.put("control.key", ControlLoopITCase.KEY);
        c.put("experiments.fraud.model", DemoModels.MODEL);
        c.put("experiments.fraud.baseline", DemoModels.BASELINE);
        c.put("experiments.fraud.candidate", DemoModels.GOOD_CANDIDATE);
        c.put("experiments.fraud.canary-percent", "10");
        c.put("kafka.properties.interceptor.classes", RecordingInterceptor.class.getName());
        c.put("kafka.properties.config.providers", "env");
        c.put(
                "kafka.properties.config.providers.env.class",
                "org.apache.kafka.common.config.provider.EnvVarConfigProvider");
        c.put("kafka.properties.canaryflow.test.secret", "${env:KAFKA_PASSWORD}");
        JobConfig config = JobConfig.fromFlat(c);
        InferenceJobITCase.sendEvents(kafka.clients(), name + "-features", "fraud", 500, 50, 1);
        RecordingInterceptor.CLIENTS.clear();

        assertThat(JobRun.runToCompletion(cluster, config, InferenceJobITCase.JOB_TIMEOUT))
                .isZero();

        int consumers = 0;
        Set<String> producers = new TreeSet<>();
        for (Map<String, ?> client : RecordingInterceptor.CLIENTS) {
            assertThat(client.get("canaryflow.test.secret"))
                    .as("resolved in %s", client.get("client.id"))
                    .isEqualTo("secret-from-the-environment");
            if (client.containsKey("transactional.id")) {
                producers.add(
                        String.valueOf(client.get("transactional.id"))
                                .replaceAll("-\\d+-\\d+$", ""));
            } else if (client.containsKey("group.id")) {
                consumers++;
            }
        }
        // the readers of the features, labels and control sources (two tasks each), and each
        // exactly-once sink
        assertThat(consumers).isGreaterThanOrEqualTo(6);
        assertThat(producers)
                .containsAll(
                        List.of(
                                name + "-predictions",
                                name + "-dead-letters",
                                name + "-monitoring",
                                name + "-decisions"));
    }
}
