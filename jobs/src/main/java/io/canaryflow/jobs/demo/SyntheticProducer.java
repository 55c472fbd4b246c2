package io.canaryflow.jobs.demo;

import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import io.canaryflow.operators.records.FeatureEventJson;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Sends synthetic card payments to the features topic at a steady rate, spread over the demo's
 * experiments, with a deliberately bad record every {@code badEvery} events so that the dead
 * letters have something to show.
 */
final class SyntheticProducer implements Runnable, AutoCloseable {
    private static final String[] COUNTRIES = {"DE", "FR", "NL", "ES", "IT"};

    private final KafkaProducer<byte[], byte[]> producer;
    private final String topic;
    private final List<String> experiments;
    private final int ratePerSecond;
    private final int badEvery;
    private final int units;
    private final AtomicLong produced = new AtomicLong();
    private final AtomicLong bad = new AtomicLong();
    private volatile boolean running = true;
    private final long shiftAfterNanos;
    private volatile boolean shifted;

    /** The feature the drift phase shifts, and by how much (about one standard deviation). */
    static final String SHIFTED_FEATURE = "amount";

    static final double SHIFT = 1.0;

    /** Client properties that reach {@code bootstrapServers} and nothing more. */
    static Properties client(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return p;
    }

    /**
     * @param client Kafka client properties: the brokers, and security settings if any
     */
    SyntheticProducer(
            Properties client,
            String topic,
            List<String> experiments,
            int ratePerSecond,
            int badEvery,
            int units,
            long shiftAfterSeconds,
            String labelsTopic,
            long labelHorizonMillis) {
        Properties p = new Properties();
        p.putAll(client);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.ACKS_CONFIG, "1");
        this.producer =
                new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        this.topic = topic;
        this.experiments = List.copyOf(experiments);
        this.ratePerSecond = ratePerSecond;
        this.badEvery = badEvery;
        this.units = units;
        this.shiftAfterNanos =
                shiftAfterSeconds <= 0 ? Long.MAX_VALUE : shiftAfterSeconds * 1_000_000_000L;
        this.labelsTopic = labelsTopic;
        this.labelHorizonMillis = labelHorizonMillis;
    }

    /** A label the producer will send once it is due, as ground truth arrives late. */
    private record PendingLabel(long dueMillis, String eventId, boolean fraud) {}

    private final String labelsTopic;
    private final long labelHorizonMillis;
    private final java.util.PriorityQueue<PendingLabel> labels =
            new java.util.PriorityQueue<>(
                    java.util.Comparator.comparingLong(PendingLabel::dueMillis));
    private final java.util.concurrent.atomic.AtomicLong labelsSent =
            new java.util.concurrent.atomic.AtomicLong();

    long labelsSent() {
        return labelsSent.get();
    }

    /**
     * Half the events get a label: nine in ten of those within the first two thirds of the horizon,
     * one in ten after it (late).
     */
    private void scheduleLabel(String id, boolean fraud, SplittableRandom random) {
        if (labelsTopic == null || random.nextInt(2) == 0) {
            return;
        }
        long delay =
                random.nextInt(10) == 0
                        ? labelHorizonMillis + 1 + random.nextLong(labelHorizonMillis / 2)
                        : 1 + random.nextLong(labelHorizonMillis * 2 / 3);
        labels.add(new PendingLabel(System.currentTimeMillis() + delay, id, fraud));
    }

    private void sendDueLabels() {
        long now = System.currentTimeMillis();
        while (!labels.isEmpty() && labels.peek().dueMillis() <= now) {
            PendingLabel l = labels.poll();
            String value =
                    String.format(
                            "{\"event_id\":\"%s\",\"label\":%d,\"ts\":%d}",
                            l.eventId(), l.fraud() ? 1 : 0, l.dueMillis());
            producer.send(
                    new ProducerRecord<>(
                            labelsTopic,
                            l.eventId().getBytes(StandardCharsets.UTF_8),
                            value.getBytes(StandardCharsets.UTF_8)));
            labelsSent.incrementAndGet();
        }
    }

    long produced() {
        return produced.get();
    }

    /** Whether the drift phase has started. */
    boolean shifted() {
        return shifted;
    }

    long bad() {
        return bad.get();
    }

    @Override
    public void run() {
        SyntheticFraud data = new SyntheticFraud(System.nanoTime());
        SplittableRandom random = new SplittableRandom(17);
        FeatureEventJson json = new FeatureEventJson();
        long started = System.nanoTime();
        long sequence = 0;
        while (running) {
            long due = (System.nanoTime() - started) * ratePerSecond / 1_000_000_000L;
            sendDueLabels();
            if (sequence >= due) {
                sleep(5);
                continue;
            }
            if (!shifted && System.nanoTime() - started >= shiftAfterNanos) {
                shifted = true;
            }
            int shiftedColumn = SyntheticFraud.FEATURES.indexOf(SHIFTED_FEATURE);
            while (sequence < due && running) {
                String unit = "user-" + random.nextInt(units);
                String experiment = experiments.get((int) (sequence % experiments.size()));
                String id = "demo-" + sequence;
                byte[] value;
                if (badEvery > 0 && sequence % badEvery == badEvery - 1) {
                    value = badRecord(id, unit, experiment, sequence / badEvery);
                    bad.incrementAndGet();
                } else {
                    SyntheticFraud.Row row = data.next();
                    double[] features = row.features();
                    scheduleLabel(id, row.fraud(), random);
                    if (shifted) {
                        features[shiftedColumn] += SHIFT;
                    }
                    value =
                            json.write(
                                    id,
                                    unit,
                                    experiment,
                                    System.currentTimeMillis(),
                                    SyntheticFraud.FEATURES,
                                    features,
                                    Map.of("country", COUNTRIES[random.nextInt(COUNTRIES.length)]));
                }
                producer.send(
                        new ProducerRecord<>(topic, unit.getBytes(StandardCharsets.UTF_8), value));
                produced.incrementAndGet();
                sequence++;
            }
        }
        producer.flush();
    }

    private static byte[] badRecord(String id, String unit, String experiment, long kind) {
        String text =
                switch ((int) (kind % 4)) {
                    case 0 ->
                            "{\"event_id\":\""
                                    + id
                                    + "\",\"unit\":\""
                                    + unit
                                    + "\",\"experiment\":";
                    case 1 ->
                            "{\"event_id\":\""
                                    + id
                                    + "\",\"unit\":\""
                                    + unit
                                    + "\",\"experiment\":\""
                                    + experiment
                                    + "\",\"features\":{\"amount\":12.5}}";
                    case 2 ->
                            "{\"event_id\":\""
                                    + id
                                    + "\",\"unit\":\""
                                    + unit
                                    + "\",\"experiment\":\""
                                    + experiment
                                    + "\",\"features\":[NaN,1,0,1,0.5,0,0,1]}";
                    default ->
                            "{\"event_id\":\""
                                    + id
                                    + "\",\"unit\":\""
                                    + unit
                                    + "\",\"experiment\":\"no-such-experiment\",\"features\":[1,1,0,1,0.5,0,0,1]}";
                };
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    void stop() {
        running = false;
    }

    @Override
    public void close() {
        running = false;
        producer.close();
    }
}
