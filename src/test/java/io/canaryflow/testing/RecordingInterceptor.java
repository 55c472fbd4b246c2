package io.canaryflow.testing;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * A Kafka interceptor (producer and consumer) that records the configuration of every client it is
 * configured into: named in {@code interceptor.classes}, it shows which clients a setting reached,
 * with what else they were given. Passes every record through unchanged.
 */
public final class RecordingInterceptor
        implements ProducerInterceptor<Object, Object>, ConsumerInterceptor<Object, Object> {
    /** Each configured client's settings, as Kafka handed them to its interceptors. */
    public static final List<Map<String, ?>> CLIENTS = new CopyOnWriteArrayList<>();

    @Override
    public void configure(Map<String, ?> configs) {
        CLIENTS.add(Map.copyOf(configs));
    }

    @Override
    public ProducerRecord<Object, Object> onSend(ProducerRecord<Object, Object> record) {
        return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {}

    @Override
    public ConsumerRecords<Object, Object> onConsume(ConsumerRecords<Object, Object> records) {
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

    @Override
    public void close() {}
}
