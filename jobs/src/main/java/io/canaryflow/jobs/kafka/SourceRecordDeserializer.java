package io.canaryflow.jobs.kafka;

import io.canaryflow.operators.control.ControlRecord;
import io.canaryflow.operators.control.DecisionVerifier;
import io.canaryflow.operators.records.SourceRecord;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * Passes Kafka records on undecoded, with their position. Decoding happens in its own operator so
 * that a bad record becomes a dead letter instead of failing the source.
 */
public final class SourceRecordDeserializer
        implements KafkaRecordDeserializationSchema<SourceRecord> {
    private static final long serialVersionUID = 1L;

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<SourceRecord> out) {
        out.collect(of(record));
    }

    /** The value of the record's last header of that name, or null. */
    public static byte[] lastHeader(ConsumerRecord<byte[], byte[]> record, String name) {
        Header h = record.headers().lastHeader(name);
        return h == null ? null : h.value();
    }

    /** A Kafka record's bytes and position. */
    static SourceRecord of(ConsumerRecord<byte[], byte[]> record) {
        return new SourceRecord(
                record.key(),
                record.value(),
                record.topic(),
                record.partition(),
                record.offset(),
                record.timestamp());
    }

    @Override
    public TypeInformation<SourceRecord> getProducedType() {
        return TypeInformation.of(SourceRecord.class);
    }

    /** Control records: the record with its signature headers, for the decisions' check. */
    public static final class WithSignature
            implements KafkaRecordDeserializationSchema<ControlRecord> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record, Collector<ControlRecord> out) {
            out.collect(
                    new ControlRecord(
                            of(record),
                            lastHeader(record, DecisionVerifier.KEY_ID_HEADER),
                            lastHeader(record, DecisionVerifier.SIGNATURE_HEADER)));
        }

        @Override
        public TypeInformation<ControlRecord> getProducedType() {
            return TypeInformation.of(ControlRecord.class);
        }
    }
}
