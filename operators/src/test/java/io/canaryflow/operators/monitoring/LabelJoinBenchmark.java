package io.canaryflow.operators.monitoring;

import io.canaryflow.operators.records.Label;
import io.canaryflow.operators.units.UnitSketch;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The label join alone, in the traffic of {@code bin/benchmark e2e}'s "on + labels" mode (an event
 * a millisecond, a label for every other one 2 s later, horizon 10 s, a checkpoint every 70,000
 * events), on RocksDB with incremental checkpoints or on the heap ({@code -Djoin.bench.backend=
 * hashmap}). Run with {@code -Djoin.bench=true}; prints wall time per event and the CPU time of the
 * thread that runs the join (steadier on a busy machine; RocksDB's own threads not included).
 */
class LabelJoinBenchmark {
    @Test
    void run() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("join.bench"));
        int events = Integer.getInteger("join.bench.events", 500_000);
        boolean rocks = !"hashmap".equals(System.getProperty("join.bench.backend"));
        boolean uuid = Boolean.getBoolean("join.bench.uuid");
        for (int round = 0; round < Integer.getInteger("join.bench.rounds", 3); round++) {
            long series = LabelSeries.hash("fraud", "v1", "candidate");
            var h =
                    new KeyedTwoInputStreamOperatorTestHarness<
                            String, WaitingPrediction, Label, LabelPartial>(
                            new LabelJoinOperator(
                                    60_000,
                                    10_000,
                                    0.5,
                                    LabelSeries.of(Map.of("fraud", List.of("fraud", "v1"))),
                                    600_000),
                            WaitingPrediction::eventId,
                            Label::eventId,
                            Types.STRING,
                            128,
                            1,
                            0);
            if (rocks) {
                org.apache.flink.configuration.Configuration rocksConfig =
                        new org.apache.flink.configuration.Configuration();
                for (String property : System.getProperties().stringPropertyNames()) {
                    if (property.startsWith("join.bench.flink.")) {
                        rocksConfig.setString(
                                property.substring("join.bench.flink.".length()),
                                System.getProperty(property));
                    }
                }
                h.setStateBackend(
                        new EmbeddedRocksDBStateBackend(true)
                                .configure(rocksConfig, getClass().getClassLoader()));
            }
            h.setCheckpointStorage(
                    new org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage(
                            Integer.MAX_VALUE));
            h.open();
            String[] ids = new String[events];
            for (int i = 0; i < events; i++) {
                ids[i] =
                        uuid ? new java.util.UUID(i * 0x9E3779B97F4A7C15L, i).toString() : "e-" + i;
            }
            long base = 1_700_000_000_000L;
            long snapshotNanos = 0;
            java.lang.management.ThreadMXBean threads =
                    java.lang.management.ManagementFactory.getThreadMXBean();
            long started = System.nanoTime();
            long cpu = threads.getCurrentThreadCpuTime();
            long checkpoint = 0;
            for (int i = 0; i < events; i++) {
                h.processElement1(
                        new StreamRecord<>(
                                new WaitingPrediction(
                                        new String(ids[i]),
                                        series,
                                        base + i,
                                        0.3f,
                                        UnitSketch.hash("user-" + (i % 50_000))),
                                base + i));
                int j = i - 2_000;
                if (j >= 0 && j % 2 == 0) {
                    h.processElement2(
                            new StreamRecord<>(
                                    new Label(
                                            new String(ids[j]),
                                            j % 7 == 0 ? 1 : 0,
                                            base + j + 2_000),
                                    base + j + 2_000));
                }
                if (i % 1_000 == 999) {
                    h.processBothWatermarks(new Watermark(base + i - 1_000));
                    h.getOutput().clear();
                }
                if (i % 70_000 == 69_999) {
                    long s = System.nanoTime();
                    h.snapshot(++checkpoint, checkpoint);
                    h.notifyOfCompletedCheckpoint(checkpoint);
                    snapshotNanos += System.nanoTime() - s;
                }
            }
            double total = (System.nanoTime() - started) / (double) events;
            double thread = (threads.getCurrentThreadCpuTime() - cpu) / (double) events;
            System.out.printf(
                    "JOIN | %s%s | round %d | %.0f ns per event, of it %.0f in snapshots; the"
                            + " join's thread %.0f ns of CPU per event%n",
                    rocks ? "rocksdb" : "hashmap",
                    uuid ? " uuid" : "",
                    round,
                    total,
                    snapshotNanos / (double) events,
                    thread);
            h.close();
        }
    }
}
