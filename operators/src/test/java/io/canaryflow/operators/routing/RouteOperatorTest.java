package io.canaryflow.operators.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.monitoring.RoutedPartial;
import io.canaryflow.operators.records.FeatureEvent;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.RoutedEvent;
import io.canaryflow.operators.records.SourceRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/**
 * The route operator's count of what it routes: exact per (version, arm) and bucket, handed on
 * before the watermark that closes the bucket and before every checkpoint barrier, late events not
 * counted.
 */
class RouteOperatorTest {
    private static final RolloutPlan PLAN = plan("p1", 10);

    /** A canary of v2 against v1 in experiment "fraud". */
    private static RolloutPlan plan(String id, double percent) {
        return new RolloutPlan(
                id, "fraud", "fraud", RolloutPlan.Mode.CANARY, "salt", "v1", "v2", percent, null);
    }

    private static FeatureEvent event(int i, long ts) {
        return new FeatureEvent(
                "e-" + i, "user-" + (i % 997), "fraud", ts, new float[] {1f}, Map.of(), null);
    }

    private static TwoInputStreamOperatorTestHarness<FeatureEvent, DecidedPlan, RoutedEvent>
            harness() throws Exception {
        TwoInputStreamOperatorTestHarness<FeatureEvent, DecidedPlan, RoutedEvent> h =
                new TwoInputStreamOperatorTestHarness<>(
                        new RouteOperator(new RouteFunction(Map.of("fraud", PLAN)), 1_000));
        h.open();
        return h;
    }

    /** Routed counts handed on so far, added up per "version/arm@bucketStart". */
    private static Map<String, Long> counted(
            TwoInputStreamOperatorTestHarness<FeatureEvent, DecidedPlan, RoutedEvent> h) {
        Map<String, Long> out = new HashMap<>();
        var side = h.getSideOutput(Outputs.ROUTED);
        if (side != null) {
            for (StreamRecord<RoutedPartial> r : side) {
                RoutedPartial p = r.getValue();
                out.merge(
                        p.version() + "/" + p.arm() + "@" + p.windowStart(), p.routed(), Long::sum);
            }
        }
        return out;
    }

    @Test
    void shouldCountEveryRoutedEventOnceInItsBucketWhateverTheBarriersCut() throws Exception {
        var h = harness();
        SplittableRandom random = new SplittableRandom(3);
        Map<String, Long> expected = new HashMap<>();
        List<Long> timestamps = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            long ts = 10_000 + random.nextLong(4_000); // four buckets, out of order within them
            timestamps.add(ts);
            h.processElement1(new StreamRecord<>(event(i, ts), ts));
            if (i % 1_700 == 0) {
                h.prepareSnapshotPreBarrier(i); // a barrier cuts the counts into pieces
            }
        }
        for (StreamRecord<? extends RoutedEvent> r : routedEvents(h)) {
            RoutedEvent e = r.getValue();
            expected.merge(
                    e.version() + "/" + e.arm().wireName() + "@" + (e.event().ts() / 1_000 * 1_000),
                    1L,
                    Long::sum);
        }
        h.processWatermark1(new Watermark(13_999));
        assertThat(counted(h)).isEqualTo(expected);
        assertThat(expected.keySet())
                .contains("v2/candidate@10000", "v1/control@10000", "v1/baseline@13000");
        h.close();
    }

    @Test
    void shouldHandABucketOnBeforeTheWatermarkThatClosesItAndNotCountLateEvents() throws Exception {
        var h = harness();
        for (int i = 0; i < 300; i++) {
            h.processElement1(new StreamRecord<>(event(i, 1_500), 1_500));
        }
        h.processWatermark1(new Watermark(1_999)); // bucket [1000, 2000) is complete
        List<Object> output = new ArrayList<>(h.getOutput());
        Object last = output.get(output.size() - 1);
        assertThat(last).isInstanceOf(Watermark.class);
        long routedFirst = counted(h).values().stream().mapToLong(Long::longValue).sum();
        assertThat(routedFirst).isEqualTo(300); // one assignment per event in a canary
        // late: the bucket was handed on; monitoring counts such events as late, not as attempts
        h.processElement1(new StreamRecord<>(event(1, 1_600), 1_600));
        h.prepareSnapshotPreBarrier(1);
        assertThat(counted(h).values().stream().mapToLong(Long::longValue).sum()).isEqualTo(300);
        h.close();
    }

    @SuppressWarnings("unchecked")
    private static List<StreamRecord<RoutedEvent>> routedEvents(
            TwoInputStreamOperatorTestHarness<FeatureEvent, DecidedPlan, RoutedEvent> h) {
        List<StreamRecord<RoutedEvent>> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r) {
                out.add((StreamRecord<RoutedEvent>) r);
            }
        }
        return out;
    }

    @Test
    void shouldFollowDecidedPlansAndRefuseAReplayOfAnOlderDecision() throws Exception {
        var h = harness();
        long t = 1_700_000_000_000L;
        RolloutPlan full = plan("p-full", 100);
        RolloutPlan rolledBack = plan("p-back", 0);
        SourceRecord source = new SourceRecord(null, new byte[0], "control", 0, 7, t);
        h.processElement2(new StreamRecord<>(new DecidedPlan(full, "d-1", t, source)));
        h.processElement2(
                new StreamRecord<>(new DecidedPlan(rolledBack, "d-2", t + 3_600_000, source)));
        // the genuine, hour-older d-1 written again: refused, routing stays rolled back
        h.processElement2(new StreamRecord<>(new DecidedPlan(full, "d-1", t, source)));
        h.processElement1(new StreamRecord<>(event(1, 5_000), 5_000));
        assertThat(routedEvents(h))
                .singleElement()
                .satisfies(
                        r -> {
                            assertThat(r.getValue().planId()).isEqualTo("p-back");
                            assertThat(r.getValue().version()).isEqualTo("v1");
                        });
        assertThat(h.getSideOutput(Outputs.DEAD_LETTERS))
                .singleElement()
                .satisfies(
                        d -> {
                            assertThat(d.getValue().reason()).isEqualTo(Reason.REPLAYED);
                            assertThat(d.getValue().detail()).contains("d-1", "3600000 ms later");
                            assertThat(d.getValue().offset()).isEqualTo(7);
                        });
        // nor a copy of the newest itself; a later decision is followed
        h.processElement2(
                new StreamRecord<>(new DecidedPlan(rolledBack, "d-2", t + 3_600_000, source)));
        assertThat(h.getSideOutput(Outputs.DEAD_LETTERS)).hasSize(2);
        h.processElement2(new StreamRecord<>(new DecidedPlan(full, "d-3", t + 3_600_001, source)));
        h.processElement1(new StreamRecord<>(event(2, 5_000), 5_000));
        assertThat(routedEvents(h).get(1).getValue().planId()).isEqualTo("p-full");
        h.close();
    }
}
