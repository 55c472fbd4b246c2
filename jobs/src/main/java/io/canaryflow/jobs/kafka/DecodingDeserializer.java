package io.canaryflow.jobs.kafka;

import io.canaryflow.operators.decode.Decoded;
import io.canaryflow.operators.decode.SourceDecoder;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Reason;
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
        SourceRecord source = SourceRecordDeserializer.of(record);
        long now = System.currentTimeMillis();
        Decoded decoded;
        try {
            decoded = decoder.read(source, now);
        } catch (RuntimeException e) {
            // A decoder bug or a parser limit it does not know must not stop the source (a
            // restart would read the same record again, forever): the record is a dead letter.
            decoded =
                    Decoded.of(
                            DeadLetter.of(
                                    source,
                                    Reason.MALFORMED,
                                    "could not be decoded: " + e,
                                    null,
                                    null,
                                    now));
        }
        out.collect(decoded);
    }

    @Override
    public TypeInformation<Decoded> getProducedType() {
        return TypeInformation.of(Decoded.class);
    }
}
