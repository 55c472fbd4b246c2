package io.canaryflow.jobs.kafka;

import io.canaryflow.operators.control.DecisionSigner;
import io.canaryflow.operators.control.DecisionVerifier;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.apache.flink.api.common.serialization.SerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/**
 * Writes an output record to its topic with an explicit key and Kafka timestamp.
 *
 * <p>The timestamp is when the record was produced (a prediction's {@code scored_at}), not the
 * event time the stream element carries: brokers apply time-based retention to record timestamps,
 * so old event times (a backfill, replayed history) would have the broker delete fresh output at
 * its next retention check. The event time stays in the payload ({@code ts}).
 *
 * <p>With a signer, each record carries its key id and the Ed25519 signature of its value bytes in
 * the headers {@value DecisionVerifier#KEY_ID_HEADER} and {@value
 * DecisionVerifier#SIGNATURE_HEADER} (base64).
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
    private final DecisionSigner signer;

    KeyedJsonRecords(
            String topic,
            Field<T, String> key,
            Field<T, Long> timestamp,
            SerializationSchema<T> value) {
        this(topic, key, timestamp, value, null);
    }

    /** Records signed by {@code signer} (null: unsigned). */
    KeyedJsonRecords(
            String topic,
            Field<T, String> key,
            Field<T, Long> timestamp,
            SerializationSchema<T> value,
            DecisionSigner signer) {
        this.topic = topic;
        this.key = key;
        this.timestamp = timestamp;
        this.value = value;
        this.signer = signer;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            T element, KafkaSinkContext context, Long elementTimestamp) {
        String k = key.of(element);
        byte[] bytes = value.serialize(element);
        List<Header> headers =
                signer == null
                        ? List.of()
                        : List.of(
                                new RecordHeader(
                                        DecisionVerifier.KEY_ID_HEADER,
                                        signer.key().id().getBytes(StandardCharsets.US_ASCII)),
                                new RecordHeader(
                                        DecisionVerifier.SIGNATURE_HEADER,
                                        Base64.getEncoder().encode(signer.sign(bytes))));
        return new ProducerRecord<>(
                topic,
                null,
                timestamp.of(element),
                k == null ? null : k.getBytes(StandardCharsets.UTF_8),
                bytes,
                headers);
    }
}
