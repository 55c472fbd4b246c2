package io.canaryflow.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Small Kafka client helpers for tests, against any broker. */
public final class KafkaClients {
    private final String bootstrapServers;

    public KafkaClients(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public void createTopic(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        }
    }

    /** Creates the topic unless it exists. */
    public void createTopicIfAbsent(String name, int partitions) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            if (!admin.listTopics().names().get(30, TimeUnit.SECONDS).contains(name)) {
                admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1)))
                        .all()
                        .get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** Sends {@code (key, value)} pairs and waits until every one is acknowledged. */
    public void produce(String topic, List<byte[][]> keyValues) {
        produce(topic, null, keyValues);
    }

    /**
     * Sends {@code (key, value)} pairs to the given partitions (by key hash over them; null: the
     * producer's partitioner over all) and waits until every one is acknowledged.
     */
    public void produce(String topic, List<Integer> partitions, List<byte[][]> keyValues) {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
        for (byte[][] kv : keyValues) {
            Integer partition =
                    partitions == null
                            ? null
                            : partitions.get(
                                    Math.floorMod(
                                            java.util.Arrays.hashCode(kv[0]), partitions.size()));
            records.add(new ProducerRecord<>(topic, partition, kv[0], kv[1]));
        }
        send(records);
    }

    /** Sends whole records (headers and all) and waits until every one is acknowledged. */
    public void send(List<ProducerRecord<byte[], byte[]>> records) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (ProducerRecord<byte[], byte[]> r : records) {
                sent.add(producer.send(r));
            }
            producer.flush();
            for (java.util.concurrent.Future<?> f : sent) {
                f.get(); // a record the broker refused fails the test here, not silently
            }
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("producing failed", e);
        }
    }

    /**
     * Reads committed records of {@code topic} from the beginning until {@code expected} have
     * arrived and then {@code settle} passes with nothing new (so extra records are seen too), or
     * {@code timeout} passes.
     */
    public List<ConsumerRecord<byte[], byte[]>> readCommitted(
            String topic, int expected, Duration settle, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
                new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            // Assigned, not subscribed: no consumer group, no rebalances, every partition from 0.
            List<org.apache.kafka.common.TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(topic)
                    .forEach(
                            i ->
                                    partitions.add(
                                            new org.apache.kafka.common.TopicPartition(
                                                    topic, i.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            long quietSince = System.nanoTime();
            while (System.nanoTime() < deadline) {
                int before = records.size();
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                if (records.size() > before) {
                    quietSince = System.nanoTime();
                } else if (records.size() >= expected
                        && System.nanoTime() - quietSince > settle.toNanos()) {
                    break;
                }
            }
        }
        return records;
    }
}
