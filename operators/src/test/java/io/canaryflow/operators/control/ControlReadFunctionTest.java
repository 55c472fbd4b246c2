package io.canaryflow.operators.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.JsonWriter;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import io.canaryflow.operators.routing.RolloutPlan;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.apache.flink.streaming.util.ProcessFunctionTestHarnesses;
import org.junit.jupiter.api.Test;

/**
 * The job reads its decisions back: only a decision signed by its own key, or by a key it is told
 * to trust (the previous key while keys rotate), changes routing; any other is a dead letter with
 * its reason.
 */
class ControlReadFunctionTest {
    static final DecisionSigner CURRENT = DecisionSigner.generate();
    static final DecisionSigner PREVIOUS = DecisionSigner.generate();
    static final DecisionSigner MALLORY = DecisionSigner.generate();

    static byte[] decision(String id, String plan, double percent) {
        RolloutPlan before =
                new RolloutPlan(
                        "p0", "fraud", "fraud", RolloutPlan.Mode.CANARY, "s", "v1", "v2", 10, null);
        RolloutPlan after =
                new RolloutPlan(
                        plan,
                        "fraud",
                        "fraud",
                        RolloutPlan.Mode.CANARY,
                        "s",
                        "v1",
                        "v2",
                        percent,
                        null);
        Verdict v =
                new Verdict(
                        Verdict.Action.ADVANCE,
                        false,
                        10,
                        percent,
                        1_000,
                        2_000,
                        io.canaryflow.operators.judge.ArmCounts.builder().attempts(10).build(),
                        io.canaryflow.operators.judge.ArmCounts.builder().attempts(10).build(),
                        null,
                        List.of(),
                        List.of(),
                        false,
                        false);
        return ControlCodec.write(
                new Decision(id, null, "fraud", before, after, "h", v, 5_000, null),
                new JsonWriter());
    }

    static ControlRecord signed(DecisionSigner signer, byte[] value, long offset) {
        return new ControlRecord(
                new SourceRecord(null, value, "control", 0, offset, 1),
                signer.key().id().getBytes(StandardCharsets.US_ASCII),
                Base64.getEncoder().encode(signer.sign(value)));
    }

    static OneInputStreamOperatorTestHarness<ControlRecord, SignedCommand> harness(
            DecisionSigner... trusted) throws Exception {
        List<DecisionKey> keys = java.util.Arrays.stream(trusted).map(DecisionSigner::key).toList();
        return ProcessFunctionTestHarnesses.forProcessFunction(
                new ControlReadFunction(new DecisionVerifier(keys)));
    }

    static List<String> plans(OneInputStreamOperatorTestHarness<ControlRecord, SignedCommand> h) {
        var side = h.getSideOutput(ControlReadFunction.PLANS);
        return side == null
                ? List.of()
                : side.stream().map(r -> r.getValue().plan().planId()).toList();
    }

    static List<DeadLetter> dead(
            OneInputStreamOperatorTestHarness<ControlRecord, SignedCommand> h) {
        var side = h.getSideOutput(Outputs.DEAD_LETTERS);
        return side == null ? List.of() : side.stream().map(StreamRecord::getValue).toList();
    }

    @Test
    void shouldFollowOnlyDecisionsSignedByATrustedKey() throws Exception {
        var h = harness(CURRENT);
        h.processElement(new StreamRecord<>(signed(CURRENT, decision("d-1", "p-own", 50), 1)));
        h.processElement(new StreamRecord<>(signed(MALLORY, decision("d-2", "p-foreign", 100), 2)));
        byte[] forged = decision("d-3", "p-forged", 100);
        h.processElement(
                new StreamRecord<>(
                        new ControlRecord(
                                new SourceRecord(null, forged, "control", 0, 3, 1),
                                CURRENT.key().id().getBytes(StandardCharsets.US_ASCII),
                                Base64.getEncoder().encode(MALLORY.sign(forged)))));
        h.processElement(
                new StreamRecord<>(
                        new ControlRecord(
                                new SourceRecord(
                                        null,
                                        decision("d-4", "p-unsigned", 100),
                                        "control",
                                        0,
                                        4,
                                        1),
                                null,
                                null)));
        // the previous key, rotated out
        h.processElement(new StreamRecord<>(signed(PREVIOUS, decision("d-5", "p-old", 0), 5)));

        assertThat(plans(h)).containsExactly("p-own");
        assertThat(dead(h))
                .extracting(DeadLetter::reason, DeadLetter::eventId, DeadLetter::offset)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(Reason.UNTRUSTED_KEY, "d-2", 2L),
                        org.assertj.core.groups.Tuple.tuple(Reason.BAD_SIGNATURE, "d-3", 3L),
                        org.assertj.core.groups.Tuple.tuple(Reason.UNSIGNED, "d-4", 4L),
                        org.assertj.core.groups.Tuple.tuple(Reason.UNTRUSTED_KEY, "d-5", 5L));
        assertThat(dead(h).get(0).detail()).contains(MALLORY.key().id(), CURRENT.key().id());
        h.close();
    }

    /**
     * A record without a value (a tombstone, as compaction or a careless producer writes one) or
     * with an empty one is a dead letter like any malformed record; the job goes on.
     */
    @Test
    void shouldTakeATombstoneOrAnEmptyRecordForADeadLetter() throws Exception {
        var h = harness(CURRENT);
        h.processElement(
                new StreamRecord<>(
                        new ControlRecord(
                                new SourceRecord("fraud".getBytes(), null, "control", 0, 7, 1),
                                null,
                                null)));
        h.processElement(
                new StreamRecord<>(
                        new ControlRecord(
                                new SourceRecord(null, new byte[0], "control", 0, 8, 1),
                                null,
                                null)));
        h.processElement(new StreamRecord<>(signed(CURRENT, decision("d-1", "p-own", 50), 9)));
        assertThat(dead(h))
                .extracting(DeadLetter::reason, DeadLetter::offset)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(Reason.MALFORMED, 7L),
                        org.assertj.core.groups.Tuple.tuple(Reason.MALFORMED, 8L));
        assertThat(dead(h).get(0).detail()).contains("tombstone");
        assertThat(plans(h)).containsExactly("p-own");
        h.close();
    }

    @Test
    void shouldFollowUnsignedDecisionsOfAVersionBeforeOnlyWhenToldAndOnlyBeforeTheUpgrade()
            throws Exception {
        // decided_at of the test decisions: 5,000
        var told =
                ProcessFunctionTestHarnesses.forProcessFunction(
                        new ControlReadFunction(
                                new DecisionVerifier(List.of(CURRENT.key())), 5_001));
        var tooEarly =
                ProcessFunctionTestHarnesses.forProcessFunction(
                        new ControlReadFunction(
                                new DecisionVerifier(List.of(CURRENT.key())), 5_000));
        for (var h : List.of(told, tooEarly)) {
            h.processElement(
                    new StreamRecord<>(
                            new ControlRecord(
                                    new SourceRecord(
                                            null,
                                            decision("d-1", "p-before", 50),
                                            "control",
                                            0,
                                            1,
                                            1),
                                    null,
                                    null)));
            // a forged signature is never excused
            h.processElement(
                    new StreamRecord<>(signed(MALLORY, decision("d-2", "p-forged", 100), 2)));
        }
        assertThat(plans(told)).containsExactly("p-before");
        assertThat(dead(told)).extracting(DeadLetter::eventId).containsExactly("d-2");
        assertThat(plans(tooEarly)).isEmpty();
        assertThat(dead(tooEarly)).extracting(DeadLetter::eventId).containsExactly("d-1", "d-2");
    }

    @Test
    void shouldFollowThePreviousKeysDecisionsWhileItIsTrusted() throws Exception {
        var h = harness(CURRENT, PREVIOUS);
        h.processElement(new StreamRecord<>(signed(PREVIOUS, decision("d-1", "p-old", 50), 1)));
        h.processElement(new StreamRecord<>(signed(CURRENT, decision("d-2", "p-new", 100), 2)));
        assertThat(plans(h)).containsExactly("p-old", "p-new");
        assertThat(h.getSideOutput(ControlReadFunction.PLANS))
                .extracting(r -> r.getValue().decisionId(), r -> r.getValue().decidedAt())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple("d-1", 5_000L),
                        org.assertj.core.groups.Tuple.tuple("d-2", 5_000L));
        assertThat(dead(h)).isEmpty();
        h.close();
    }
}
