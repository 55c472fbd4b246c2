package io.canaryflow.e2e;

import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.testing.KafkaClients;
import io.canaryflow.testing.TestModels;
import java.nio.file.Path;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The canary scenario against Kafka in a container, where a Docker engine exists; skipped (not
 * failed) where none does, as on the project's own build machines.
 */
@Testcontainers(disabledWithoutDocker = true)
class KafkaContainerITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @Container static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.0");

    @TempDir static Path work;

    @Test
    void shouldScoreEveryEventExactlyOnceAgainstAContainerizedBroker(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        ModelRepository repository = TestModels.generate(work.resolve("models"));
        CanaryScenario.run(
                cluster,
                new KafkaClients(KAFKA.getBootstrapServers()),
                repository,
                work,
                "container");
    }
}
