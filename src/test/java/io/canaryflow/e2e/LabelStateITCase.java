package io.canaryflow.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.testing.JobRun;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.TestModels;
import java.io.DataInputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.checkpoint.Checkpoints;
import org.apache.flink.runtime.checkpoint.OperatorState;
import org.apache.flink.runtime.checkpoint.metadata.CheckpointMetadata;
import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.shaded.guava33.com.google.common.hash.Hashing;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The label join's state, read from a canonical savepoint's metadata as Flink wrote it: per waiting
 * prediction (a 30-day horizon, no label yet), with {@code labels.sample-rate: 0.1} against every
 * unit, and once the labels' and predictions' time have passed the horizon twice (state expires in
 * event time). The figures are printed for docs/labels.md.
 */
class LabelStateITCase {
    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            // the checkpoint it measures must outlive the periodic ones after it
                            // (with one retained, a checkpoint completing first deletes it)
                            .setConfiguration(retained())
                            .build());

    static org.apache.flink.configuration.Configuration retained() {
        org.apache.flink.configuration.Configuration c =
                new org.apache.flink.configuration.Configuration();
        c.set(org.apache.flink.configuration.CheckpointingOptions.MAX_RETAINED_CHECKPOINTS, 1_000);
        return c;
    }

    @TempDir static Path work;
    static KafkaTestCluster kafka;

    static final long BASE = EventTimeITCase.BASE;
    static final int EVENTS = 50_000;
    static final long DAY = 86_400_000L;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        EventTimeITCase.kafka = kafka;
        EventTimeITCase.work = work;
        TestModels.generate(work.resolve("models"));
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    @Test
    void shouldKeepStateInProportionToTheSampledUnitsAndExpireItInEventTime(
            @InjectMiniCluster MiniCluster cluster) throws Exception {
        long all = waitingState(cluster, "state-all", 1.0, false);
        long sampled = waitingState(cluster, "state-sampled", 0.1, false);
        long expired = waitingState(cluster, "state-expired", 1.0, true);
        System.out.printf(
                "label join state (savepoints): %,d predictions waiting (30-day horizon), every unit %,d bytes"
                        + " (%.1f per prediction); labels.sample-rate 0.1 %,d bytes (%.3f of it);"
                        + " after the horizon %,d bytes%n",
                EVENTS, all, (double) all / EVENTS, sampled, (double) sampled / all, expired);
        assertThat((double) sampled / all).as("state at rate 0.1 against 1").isLessThan(0.15);
        assertThat((double) sampled / all).as("state at rate 0.1 against 1").isGreaterThan(0.05);
        assertThat(expired).as("state once the horizon has passed").isLessThan(all / 20);
    }

    /**
     * The label join's state size in a savepoint taken once every prediction is written; with
     * {@code thenExpire}, after an event and a label 64 days on in every partition.
     */
    long waitingState(MiniCluster cluster, String name, double rate, boolean thenExpire)
            throws Exception {
        Map<String, String> c = EventTimeITCase.labelled(name, "30 s");
        c.put("labels.horizon", "30 d");
        c.put("labels.sample-rate", String.valueOf(rate));
        c.put("checkpoint.interval", "1 s");
        c.put("state.backend", "rocksdb");
        JobConfig config = JobConfig.fromFlat(c);
        JobClient job = JobRun.start(config, e -> e);
        try {
            EventTimeITCase.send(name + "-features", 0, EVENTS, BASE, 1);
            // a label for an event that has none yet (unmatched), so the labels have a time
            EventTimeITCase.sendLabels(name + "-labels", List.of(new long[] {-1, BASE}));
            int expected = EVENTS;
            if (thenExpire) {
                for (int p = 0; p < 2; p++) {
                    EventTimeITCase.send(
                            name + "-features", List.of(p), EVENTS + p, 1, BASE + 64 * DAY, 1);
                }
                EventTimeITCase.labelInEveryPartition(name + "-labels", "late", BASE + 64 * DAY);
                expected += 2;
                // the expiries are reported once the join's time passed them
                EventTimeITCase.await(
                        name + "-monitoring",
                        r ->
                                r.get("report").asText().equals("labels")
                                        && r.get("window_start").asLong() >= BASE + 30 * DAY);
            }
            assertThat(
                            kafka.readCommitted(
                                    name + "-predictions",
                                    expected,
                                    Duration.ZERO,
                                    Duration.ofMinutes(2)))
                    .hasSize(expected);
            // a canonical savepoint holds the live entries alone; an incremental checkpoint also
            // the deleted ones RocksDB has not compacted away yet
            String checkpoint = cluster.triggerCheckpoint(job.getJobID()).get();
            String savepoint =
                    cluster.triggerSavepoint(
                                    job.getJobID(),
                                    work.resolve("savepoints-" + name).toUri().toString(),
                                    false,
                                    SavepointFormatType.CANONICAL)
                            .get();
            long[] sizes = {
                operatorState(savepoint, "label-join"), operatorState(checkpoint, "label-join")
            };
            System.out.printf(
                    "label join state of %s: savepoint %,d bytes, incremental checkpoint %,d%n",
                    name, sizes[0], sizes[1]);
            return sizes[0];
        } finally {
            job.cancel().get();
        }
    }

    /** The state size of the operator of {@code uid} in the checkpoint at {@code pointer}. */
    static long operatorState(String pointer, String uid) throws Exception {
        OperatorID id =
                new OperatorID(
                        Hashing.murmur3_128(0)
                                .newHasher()
                                .putString(uid, StandardCharsets.UTF_8)
                                .hash()
                                .asBytes());
        Path metadata =
                Path.of(URI.create(pointer.endsWith("/") ? pointer : pointer + "/"))
                        .resolve("_metadata");
        try (InputStream in = Files.newInputStream(metadata)) {
            CheckpointMetadata m =
                    Checkpoints.loadCheckpointMetadata(
                            new DataInputStream(in),
                            LabelStateITCase.class.getClassLoader(),
                            pointer);
            for (OperatorState s : m.getOperatorStates()) {
                if (s.getOperatorID().equals(id)) {
                    return s.getStateSize();
                }
            }
        }
        throw new AssertionError("no state of " + uid + " in " + pointer);
    }
}
