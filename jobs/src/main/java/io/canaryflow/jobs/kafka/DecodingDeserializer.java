package io.canaryflow.jobs.kafka;

import io.canaryflow.operators.decode.Decoded;
import io.canaryflow.operators.decode.SourceDecoder;
import io.canaryflow.operators.records.SourceRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Decodes each Kafka record where the source reads it, so that the source can take its event time
 * from the decoded {@code ts} per partition. Never throws for bad input: a record that cannot be
 * decoded passes on as a dead letter with its position and original bytes.
 */
final class DecodingDeserializer implements KafkaRecordDeserializationSchema<Decoded> {
    private static final long serialVersionUID = 1L;

    private final SourceDecoder decoder;

    DecodingDeserializer(SourceDecoder decoder) {
        this.decoder = decoder;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<Decoded> out) {
        out.collect(
                decoder.read(
                        new SourceRecord(
                                record.key(),
                                record.value(),
                                record.topic(),
                                record.partition(),
                                record.offset(),
                                record.timestamp()),
                        System.currentTimeMillis()));
    }

    @Override
    public TypeInformation<Decoded> getProducedType() {
        return TypeInformation.of(Decoded.class);
    }
}
