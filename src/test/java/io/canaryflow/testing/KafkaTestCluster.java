package io.canaryflow.testing;

import java.time.Duration;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/** A real single-node KRaft broker on loopback, in-process, with small client helpers. */
public final class KafkaTestCluster implements AutoCloseable {
    private final KafkaClusterTestKit kit;
    private boolean closed;

    private KafkaTestCluster(KafkaClusterTestKit kit) {
        this.kit = kit;
    }

    public static KafkaTestCluster start() throws Exception {
        KafkaClusterTestKit kit =
                new KafkaClusterTestKit.Builder(
                                new TestKitNodes.Builder()
                                        .setCombined(true)
                                        .setNumBrokerNodes(1)
                                        .setNumControllerNodes(1)
                                        .build())
                        .setConfigProp("offsets.topic.replication.factor", "1")
                        .setConfigProp("transaction.state.log.replication.factor", "1")
                        .setConfigProp("transaction.state.log.min.isr", "1")
                        .setConfigProp("group.initial.rebalance.delay.ms", "0")
                        .build();
        kit.format();
        kit.startup();
        kit.waitForReadyBrokers();
        return new KafkaTestCluster(kit);
    }

    public String bootstrapServers() {
        return kit.bootstrapServers();
    }

    /** Topic, produce and read helpers against this broker. */
    public KafkaClients clients() {
        return new KafkaClients(bootstrapServers());
    }

    public void createTopic(String name, int partitions) throws Exception {
        clients().createTopic(name, partitions);
    }

    public void produce(String topic, List<byte[][]> keyValues) {
        clients().produce(topic, keyValues);
    }

    public void produce(String topic, List<Integer> partitions, List<byte[][]> keyValues) {
        clients().produce(topic, partitions, keyValues);
    }

    public List<ConsumerRecord<byte[], byte[]>> readCommitted(
            String topic, int expected, Duration settle, Duration timeout) {
        return clients().readCommitted(topic, expected, settle, timeout);
    }

    @Override
    public synchronized void close() throws Exception {
        if (!closed) {
            closed = true; // KafkaClusterTestKit.close() must run exactly once
            kit.close();
        }
    }
}
