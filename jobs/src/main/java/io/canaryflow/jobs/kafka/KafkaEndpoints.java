package io.canaryflow.jobs.kafka;

import io.canaryflow.jobs.Pipeline;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.config.JobOptions;
import io.canaryflow.operators.control.ControlRecord;
import io.canaryflow.operators.control.Decision;
import io.canaryflow.operators.control.DecisionSchema;
import io.canaryflow.operators.decode.Decoded;
import io.canaryflow.operators.decode.SourceDecoder;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.monitoring.MonitoringSchema;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.DeadLetterSchema;
import io.canaryflow.operators.records.Prediction;
import io.canaryflow.operators.records.PredictionSchema;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.apache.kafka.clients.producer.ProducerConfig;

/**
 * The job's Kafka source and exactly-once sinks, from configuration. Security and tuning properties
 * ({@code kafka.properties.*}) reach every client unchanged.
 */
public final class KafkaEndpoints implements Pipeline.Endpoints {
    private final JobConfig config;

    public KafkaEndpoints(JobConfig config) {
        this.config = config;
    }

    @Override
    public DataStream<Decoded> features(
            StreamExecutionEnvironment env,
            SourceDecoder decoder,
            WatermarkStrategy<Decoded> time) {
        return stream(
                env,
                config.get(JobOptions.FEATURES_TOPIC),
                new DecodingDeserializer(decoder),
                time,
                "features");
    }

    @Override
    public DataStream<Decoded> labels(
            StreamExecutionEnvironment env,
            SourceDecoder decoder,
            WatermarkStrategy<Decoded> time) {
        return stream(
                env,
                config.get(JobOptions.LABELS_TOPIC),
                new DecodingDeserializer(decoder),
                time,
                "labels");
    }

    @Override
    public DataStream<ControlRecord> control(StreamExecutionEnvironment env) {
        return stream(
                env,
                config.get(JobOptions.CONTROL_TOPIC),
                new SourceRecordDeserializer.WithSignature(),
                WatermarkStrategy.noWatermarks(),
                "control");
    }

    /** The Kafka source of {@code topic}, with uid {@code <name>-source}. */
    private <T> DataStream<T> stream(
            StreamExecutionEnvironment env,
            String topic,
            KafkaRecordDeserializationSchema<T> records,
            WatermarkStrategy<T> time,
            String name) {
        return env.fromSource(source(topic, records), time, name + " (Kafka)")
                .uid(name + "-source");
    }

    @Override
    public Sink<Decision> decisions() {
        return sink(
                config.get(JobOptions.CONTROL_TOPIC),
                "decisions",
                new KeyedJsonRecords<>(
                        config.get(JobOptions.CONTROL_TOPIC),
                        Decision::experiment,
                        Decision::decidedAt,
                        new DecisionSchema(),
                        config.decisionSigner()));
    }

    private <T> Source<T, ?, ?> source(String topic, KafkaRecordDeserializationSchema<T> records) {
        KafkaSourceBuilder<T> builder =
                KafkaSource.<T>builder()
                        .setBootstrapServers(config.get(JobOptions.BOOTSTRAP_SERVERS))
                        .setTopics(topic)
                        .setGroupId(config.get(JobOptions.GROUP_ID))
                        // a client id per source (the default, the group id, is the same for
                        // all three: their clients' metrics and quotas would be lumped together)
                        .setClientIdPrefix(config.get(JobOptions.GROUP_ID) + "-" + topic)
                        .setStartingOffsets(startingOffsets())
                        .setDeserializer(records)
                        .setProperties(config.kafkaProperties())
                        // Producers may be transactional: never read aborted data.
                        .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        if (config.get(JobOptions.BOUNDED)) {
            builder.setBounded(OffsetsInitializer.latest());
            return new BoundedKafkaSource<>(builder.build());
        }
        return builder.build();
    }

    private OffsetsInitializer startingOffsets() {
        return switch (config.get(JobOptions.STARTING_OFFSETS)) {
            case COMMITTED -> OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
            case EARLIEST -> OffsetsInitializer.earliest();
            case LATEST -> OffsetsInitializer.latest();
        };
    }

    @Override
    public Sink<Prediction> predictions() {
        return sink(
                config.get(JobOptions.PREDICTIONS_TOPIC),
                "predictions",
                new KeyedJsonRecords<>(
                        config.get(JobOptions.PREDICTIONS_TOPIC),
                        Prediction::unit,
                        Prediction::scoredAt,
                        new PredictionSchema()));
    }

    @Override
    public Sink<DeadLetter> deadLetters() {
        return sink(
                config.get(JobOptions.DEAD_LETTERS_TOPIC),
                "dead-letters",
                new KeyedJsonRecords<>(
                        config.get(JobOptions.DEAD_LETTERS_TOPIC),
                        d -> DeadLetterSchema.bounded(d.eventId()),
                        DeadLetter::at,
                        new DeadLetterSchema(
                                config.get(JobOptions.DEAD_LETTER_MAX_ORIGINAL_BYTES))));
    }

    @Override
    public Sink<MonitoringRecord> monitoring() {
        return sink(
                config.get(JobOptions.MONITORING_TOPIC),
                "monitoring",
                new KeyedJsonRecords<>(
                        config.get(JobOptions.MONITORING_TOPIC),
                        MonitoringRecord::experiment,
                        MonitoringRecord::reportedAt,
                        new MonitoringSchema()));
    }

    private <T> Sink<T> sink(String topic, String name, KafkaRecordSerializationSchema<T> records) {
        Properties producer = config.kafkaProperties();
        producer.setProperty(
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
                String.valueOf(config.get(JobOptions.TRANSACTION_TIMEOUT).toMillis()));
        return KafkaSink.<T>builder()
                .setBootstrapServers(config.get(JobOptions.BOOTSTRAP_SERVERS))
                .setKafkaProducerConfig(producer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix(
                        config.get(JobOptions.TRANSACTIONAL_ID_PREFIX) + "-" + name)
                .setRecordSerializer(records)
                .build();
    }
}
