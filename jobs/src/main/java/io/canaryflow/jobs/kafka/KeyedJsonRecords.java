package io.canaryflow.jobs.kafka;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes an output record to its topic with an explicit key and Kafka timestamp.
 *
 * <p>The timestamp is when the record was produced (a prediction's {@code scored_at}), not the
 * event time the stream element carries: brokers apply time-based retention to record timestamps,
 * so old event times (a backfill, replayed history) would have the broker delete fresh output at
 * its next retention check. The event time stays in the payload ({@code ts}).
 */
final class KeyedJsonRecords<T> implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    /** A serializable accessor. */
    interface Field<T, R> extends Serializable {
        R of(T value);
    }

    private final String topic;
    private final Field<T, String> key;
    private final Field<T, Long> timestamp;
    private final SerializationSchema<T> value;

    KeyedJsonRecords(
            String topic,
            Field<T, String> key,
            Field<T, Long> timestamp,
            SerializationSchema<T> value) {
        this.topic = topic;
        this.key = key;
        this.timestamp = timestamp;
        this.value = value;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            T element, KafkaSinkContext context, Long elementTimestamp) {
        String k = key.of(element);
        return new ProducerRecord<>(
                topic,
                null,
                timestamp.of(element),
                k == null ? null : k.getBytes(StandardCharsets.UTF_8),
                value.serialize(element));
    }
}
