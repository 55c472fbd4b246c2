package io.canaryflow.operators.monitoring;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.State;
import org.apache.flink.api.common.state.StateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeutils.base.LongSerializer;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.runtime.state.storage.JobManagerCheckpointStorage;
import org.apache.flink.state.rocksdb.EmbeddedRocksDBStateBackend;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What writing and removing one waiting prediction costs in RocksDB through Flink's keyed state, in
 * the layout the label join uses and in the layouts that would keep fewer, larger entries: the
 * floor under any label join that keeps its events in RocksDB. Each event is a 30-byte value under
 * a UUID's event id, written in batches of a checkpoint's events and removed three checkpoints
 * later, with a checkpoint after each batch (incremental, as the job takes them). Prints the CPU
 * time of the thread that writes and removes, per event. Run with {@code -Dlayout.bench=true}:
 *
 * <ul>
 *   <li>{@code value per event}: the join's layout, a value keyed by the event id, put and cleared
 *       one by one;
 *   <li>{@code map per step, batched}: the events of a key group and cleanup step in one map under
 *       a key of that key group, keyed by 16 bytes of the id's hash, written with {@code putAll}
 *       (one RocksDB write batch) and removed one by one;
 *   <li>{@code map per step, cleared}: the same, removed all at once by {@code clear()} after
 *       reading them (the removal has to see each event's flags), which iterates over the step's
 *       entries.
 * </ul>
 */
class StateLayoutBenchmark {
    private static final int KEY_GROUPS = 128;

    /** An operator that only holds keyed state for the benchmark to drive. */
    static final class Holder extends AbstractStreamOperator<Void>
            implements OneInputStreamOperator<String, Void> {
        @Override
        public void processElement(StreamRecord<String> element) {}

        <S extends State> S state(StateDescriptor<S, ?> descriptor) throws Exception {
            return getPartitionedState(descriptor);
        }

        <S extends State> S state(long step, StateDescriptor<S, ?> descriptor) throws Exception {
            return getPartitionedState(step, LongSerializer.INSTANCE, descriptor);
        }
    }

    @Test
    void run() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("layout.bench"));
        int batch = 70_000; // a checkpoint's events in LabelJoinBenchmark
        int batches = Integer.getInteger("layout.bench.batches", 6);
        String[] ids = new String[batch * batches];
        byte[][] hashes = new byte[ids.length][];
        for (int i = 0; i < ids.length; i++) {
            UUID id = new UUID(i * 0x9E3779B97F4A7C15L, i);
            ids[i] = id.toString();
            hashes[i] = new byte[16];
            for (int b = 0; b < 8; b++) {
                hashes[i][b] = (byte) (id.getMostSignificantBits() >>> (8 * b));
                hashes[i][8 + b] = (byte) (id.getLeastSignificantBits() >>> (8 * b));
            }
        }
        for (int round = 0; round < Integer.getInteger("layout.bench.rounds", 3); round++) {
            for (String layout :
                    new String[] {
                        "value per event", "map per step, batched", "map per step, cleared"
                    }) {
                measure(layout, round, ids, hashes, batch, batches);
            }
        }
    }

    private static void measure(
            String layout, int round, String[] ids, byte[][] hashes, int batch, int batches)
            throws Exception {
        Holder holder = new Holder();
        var harness =
                new KeyedOneInputStreamOperatorTestHarness<String, String, Void>(
                        holder, s -> s, Types.STRING, KEY_GROUPS, 1, 0);
        harness.setStateBackend(new EmbeddedRocksDBStateBackend(true));
        harness.setCheckpointStorage(new JobManagerCheckpointStorage(Integer.MAX_VALUE));
        harness.open();
        String[] groupKeys = new String[KEY_GROUPS];
        for (int g = 0; g < KEY_GROUPS; g++) {
            for (int i = 0; groupKeys[g] == null; i++) {
                String key = "c" + g + "-" + i;
                if (KeyGroupRangeAssignment.assignToKeyGroup(key, KEY_GROUPS) == g) {
                    groupKeys[g] = key;
                }
            }
        }
        ValueStateDescriptor<byte[]> perEvent =
                new ValueStateDescriptor<>(
                        "events", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        MapStateDescriptor<byte[], byte[]> perStep =
                new MapStateDescriptor<>(
                        "steps",
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO,
                        PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);
        ValueState<byte[]> values = holder.state(perEvent);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long writing = 0;
        long removing = 0;
        long checksum = 0;
        for (int b = 0; b < batches + 3; b++) {
            long started = threads.getCurrentThreadCpuTime();
            if (b < batches) {
                if (layout.equals("value per event")) {
                    for (int i = b * batch; i < (b + 1) * batch; i++) {
                        holder.setCurrentKey(ids[i]);
                        values.update(new byte[30]);
                    }
                } else {
                    Map<Integer, Map<byte[], byte[]>> byGroup = new HashMap<>();
                    for (int i = b * batch; i < (b + 1) * batch; i++) {
                        byGroup.computeIfAbsent(
                                        KeyGroupRangeAssignment.assignToKeyGroup(
                                                ids[i], KEY_GROUPS),
                                        g -> new HashMap<>())
                                .put(hashes[i], new byte[30]);
                    }
                    for (Map.Entry<Integer, Map<byte[], byte[]>> g : byGroup.entrySet()) {
                        holder.setCurrentKey(groupKeys[g.getKey()]);
                        holder.state(b, perStep).putAll(g.getValue());
                    }
                }
            }
            long written = threads.getCurrentThreadCpuTime();
            writing += written - started;
            int r = b - 3;
            if (r >= 0 && r < batches) {
                if (layout.equals("value per event")) {
                    for (int i = r * batch; i < (r + 1) * batch; i++) {
                        holder.setCurrentKey(ids[i]);
                        values.clear();
                    }
                } else if (layout.equals("map per step, batched")) {
                    for (int i = r * batch; i < (r + 1) * batch; i++) {
                        holder.setCurrentKey(
                                groupKeys[
                                        KeyGroupRangeAssignment.assignToKeyGroup(
                                                ids[i], KEY_GROUPS)]);
                        holder.state(r, perStep).remove(hashes[i]);
                    }
                } else {
                    for (String key : groupKeys) {
                        holder.setCurrentKey(key);
                        MapState<byte[], byte[]> step = holder.state(r, perStep);
                        for (Map.Entry<byte[], byte[]> e : step.entries()) {
                            checksum += e.getValue().length;
                        }
                        step.clear();
                    }
                }
            }
            removing += threads.getCurrentThreadCpuTime() - written;
            harness.snapshot(b, b);
        }
        int events = batch * batches;
        System.out.printf(
                "LAYOUT | %s | round %d | write %.0f ns, remove %.0f ns of the thread's CPU per"
                        + " event%s%n",
                layout,
                round,
                writing / (double) events,
                removing / (double) events,
                checksum == 0 || checksum == 30L * events ? "" : " (entries missing)");
        harness.close();
    }
}
