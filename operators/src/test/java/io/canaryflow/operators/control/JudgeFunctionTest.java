package io.canaryflow.operators.control;

import static org.assertj.core.api.Assertions.assertThat;

import io.canaryflow.operators.Outputs;
import io.canaryflow.operators.judge.Guardrail;
import io.canaryflow.operators.judge.RolloutPolicy;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.monitoring.MonitoringRecord;
import io.canaryflow.operators.monitoring.TestReports;
import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.Reason;
import io.canaryflow.operators.records.SourceRecord;
import io.canaryflow.operators.routing.RolloutPlan;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;

/** The judge operator: windows to decisions, commands checked and applied, state restored. */
class JudgeFunctionTest {
    static final byte[] KEY = "judge-function-test-key-01234567".getBytes(StandardCharsets.UTF_8);
    static final RolloutPlan PLAN =
            new RolloutPlan(
                    "fraud-p0",
                    "fraud",
                    "fraud",
                    RolloutPlan.Mode.CANARY,
                    "salt",
                    "v1",
                    "v2",
                    10,
                    List.of());
    static final RolloutPolicy POLICY =
            new RolloutPolicy(
                    List.of(10.0, 50.0, 100.0),
                    1_000,
                    100,
                    List.of(new Guardrail(Guardrail.Metric.INFERENCE_ERROR_RATE, 0.01, true, 0.01)),
                    0.05,
                    0.001,
                    2,
                    false);

    /** The judge of {@link #PLAN} under {@link #POLICY}, its processing time now. */
    static KeyedTwoInputStreamOperatorTestHarness<String, MonitoringRecord, SignedCommand, Decision>
            harness() throws Exception {
        KeyedTwoInputStreamOperatorTestHarness<String, MonitoringRecord, SignedCommand, Decision>
                h = harness(PLAN, POLICY);
        h.setProcessingTime(System.currentTimeMillis());
        return h;
    }

    /** The judge of experiment "fraud" with {@code plan} under {@code policy}. */
    static KeyedTwoInputStreamOperatorTestHarness<String, MonitoringRecord, SignedCommand, Decision>
            harness(RolloutPlan plan, RolloutPolicy policy) throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new JudgeOperator(
                        new JudgeFunction(
                                Map.of("fraud", plan), Map.of("fraud", policy), KEY, 60_000, true)),
                MonitoringRecord::experiment,
                c -> c.command().experiment(),
                Types.STRING);
    }

    static MonitoringRecord report(String version, String arm, long window, long n, long failed) {
        return TestReports.report(version, arm, window, n, failed);
    }

    static void window(
            KeyedTwoInputStreamOperatorTestHarness<
                            String, MonitoringRecord, SignedCommand, Decision>
                    h,
            long w,
            long n)
            throws Exception {
        h.processElement1(new StreamRecord<>(report("v1", "control", w, n, 0), w * 1_000 + 999));
        h.processElement1(new StreamRecord<>(report("v2", "candidate", w, n, 0), w * 1_000 + 999));
        h.processBothWatermarks(new Watermark(w * 1_000 + 999));
    }

    static SignedCommand command(byte[] key, String id, Command.Action action, long issuedAt) {
        Command c = new Command(id, "fraud", action, null, "alice", issuedAt, null);
        Command signed = key == null ? c : new CommandSigner(key).sign(c);
        return new SignedCommand(
                signed, new SourceRecord(null, ControlCodec.write(signed), "control", 0, 7, -1));
    }

    static List<Decision> decisions(
            KeyedTwoInputStreamOperatorTestHarness<
                            String, MonitoringRecord, SignedCommand, Decision>
                    h) {
        return new ArrayList<>(h.extractOutputValues());
    }

    @Test
    void shouldDecideEveryWindowAndChainDeterministicIdsThatSurviveARestore() throws Exception {
        List<String> ids = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.open();
            window(h, 0, 2_000);
            snapshot = h.snapshot(1, 1);
            window(h, 1, 2_000);
            window(h, 2, 2_000); // the rollout has ended: nothing more to decide
            decisions(h).forEach(d -> ids.add(d.decisionId()));
            List<Decision> out = decisions(h);
            assertThat(out)
                    .extracting(d -> d.verdict().action())
                    .containsExactly(Verdict.Action.ADVANCE, Verdict.Action.PROMOTE);
            assertThat(out.get(0).previousDecisionId()).isNull();
            assertThat(out.get(1).previousDecisionId()).isEqualTo(out.get(0).decisionId());
            assertThat(out.get(0).planBefore().planId()).isEqualTo("fraud-p0");
            assertThat(out.get(0).plan().canaryPercent()).isEqualTo(50);
            assertThat(out.get(1).plan().baseline()).isEqualTo("v2");
        }
        // a recovery from the checkpoint after window 0 judges window 1 again: the same decision
        try (var h = harness()) {
            h.initializeState(snapshot);
            h.open();
            window(h, 1, 2_000);
            assertThat(decisions(h))
                    .singleElement()
                    .satisfies(d -> assertThat(d.decisionId()).isEqualTo(ids.get(1)));
        }
    }

    /**
     * Readers refuse a decision not later than the newest they followed: so an experiment's
     * decided_at must grow even when the judge's clock goes back (a failover to a host behind).
     */
    @Test
    void shouldDecideStrictlyLaterEachTimeWhateverTheClockAndThroughARestore() throws Exception {
        RolloutPolicy slow =
                new RolloutPolicy(
                        List.of(10.0, 20.0, 30.0, 50.0, 100.0),
                        1_000,
                        100,
                        List.of(
                                new Guardrail(
                                        Guardrail.Metric.INFERENCE_ERROR_RATE, 0.01, true, 0.01)),
                        0.05,
                        0.001,
                        2,
                        false);
        long clock = 1_800_000_000_000L;
        OperatorSubtaskState snapshot;
        long before;
        try (var h = harness(PLAN, slow)) {
            h.open();
            h.setProcessingTime(clock);
            window(h, 0, 2_000);
            h.setProcessingTime(clock - 60_000); // the clock went back a minute
            window(h, 1, 2_000);
            snapshot = h.snapshot(1, 1);
            List<Decision> out = decisions(h);
            assertThat(out).hasSize(2);
            assertThat(out.get(0).decidedAt()).isEqualTo(clock);
            assertThat(out.get(1).decidedAt()).isEqualTo(clock + 1);
            before = out.get(1).decidedAt();
        }
        // restored on a host whose clock is an hour behind
        try (var h = harness(PLAN, slow)) {
            h.initializeState(snapshot);
            h.open();
            h.setProcessingTime(clock - 3_600_000);
            window(h, 2, 2_000);
            assertThat(decisions(h))
                    .singleElement()
                    .satisfies(d -> assertThat(d.decidedAt()).isEqualTo(before + 1));
        }
    }

    @Test
    void shouldRejectUnsignedForgedStaleAndReplayedCommandsAsDeadLetters() throws Exception {
        try (var h = harness()) {
            h.open();
            long now = h.getProcessingTime();
            h.processElement2(new StreamRecord<>(command(null, "c-1", Command.Action.ABORT, now)));
            h.processElement2(
                    new StreamRecord<>(
                            command(
                                    "another-key-of-32-bytes-00000000".getBytes(),
                                    "c-2",
                                    Command.Action.ABORT,
                                    now)));
            h.processElement2(
                    new StreamRecord<>(command(KEY, "c-3", Command.Action.ABORT, now - 120_000)));
            h.processElement2(new StreamRecord<>(command(KEY, "c-4", Command.Action.PAUSE, now)));
            h.processElement2(new StreamRecord<>(command(KEY, "c-4", Command.Action.PAUSE, now)));
            List<Reason> reasons = new ArrayList<>();
            for (StreamRecord<DeadLetter> d : h.getSideOutput(Outputs.DEAD_LETTERS)) {
                reasons.add(d.getValue().reason());
                assertThat(d.getValue().topic()).isEqualTo("control");
            }
            assertThat(reasons)
                    .containsExactly(
                            Reason.UNSIGNED, Reason.BAD_SIGNATURE, Reason.STALE, Reason.REPLAYED);
            assertThat(decisions(h)).isEmpty(); // none of the aborts applied
            // the accepted PAUSE holds judging: a window passes without a decision
            window(h, 0, 2_000);
            assertThat(decisions(h)).isEmpty();
            h.processElement2(new StreamRecord<>(command(KEY, "c-5", Command.Action.RESUME, now)));
            window(h, 1, 2_000);
            assertThat(decisions(h)).hasSize(1);
        }
    }

    @Test
    void shouldRollBackOnAnAbortAndOnAnUnloadableCandidate() throws Exception {
        try (var h = harness()) {
            h.open();
            h.processElement2(
                    new StreamRecord<>(
                            command(KEY, "c-9", Command.Action.ABORT, h.getProcessingTime())));
            Decision abort = decisions(h).get(0);
            assertThat(abort.verdict().action()).isEqualTo(Verdict.Action.ROLLBACK);
            assertThat(abort.verdict().reasons())
                    .containsExactly("aborted by command c-9 from alice");
            assertThat(abort.plan().canaryPercent()).isZero();
            assertThat(abort.plan().salt()).isNotEqualTo(PLAN.salt());
        }
        try (var h = harness()) {
            h.open();
            h.processElement1(new StreamRecord<>(report("v1", "control", 0, 500, 0), 999));
            h.processElement1(new StreamRecord<>(report("v2", "candidate", 0, 0, 50), 999));
            h.processBothWatermarks(new Watermark(999));
            assertThat(decisions(h))
                    .singleElement()
                    .satisfies(
                            d -> {
                                assertThat(d.verdict().action()).isEqualTo(Verdict.Action.ROLLBACK);
                                assertThat(d.verdict().reasons())
                                        .containsExactly("the candidate version cannot be loaded");
                            });
        }
    }

    /** A signed SET_PLAN command "c-plan" carrying {@code plan}. */
    static SignedCommand setPlan(String plan, long issuedAt) {
        Command c =
                new CommandSigner(KEY)
                        .sign(
                                new Command(
                                        "c-plan",
                                        "fraud",
                                        Command.Action.SET_PLAN,
                                        plan,
                                        "alice",
                                        issuedAt,
                                        null));
        return new SignedCommand(
                c, new SourceRecord(null, ControlCodec.write(c), "control", 0, 1, -1));
    }

    /** Whether the experiment has any entry in the judge's map state {@code name}. */
    static boolean holds(
            KeyedTwoInputStreamOperatorTestHarness<
                            String, MonitoringRecord, SignedCommand, Decision>
                    h,
            String name)
            throws Exception {
        try (java.util.stream.Stream<String> keys =
                h.getOperator()
                        .<String>getKeyedStateBackend()
                        .getKeys(name, org.apache.flink.runtime.state.VoidNamespace.INSTANCE)) {
            return keys.anyMatch("fraud"::equals);
        }
    }

    /**
     * A window reported but not yet judged when a new plan is set is forgotten with its drift
     * summary: nothing of it stays in the judge's state.
     */
    @Test
    void shouldForgetAReplacedPlansWindowWithItsDriftSummary() throws Exception {
        try (var h = harness()) {
            h.open();
            h.processElement1(new StreamRecord<>(report("v1", "control", 0, 500, 0), 999));
            h.processElement1(new StreamRecord<>(report("v2", "candidate", 0, 500, 0), 999));
            assertThat(holds(h, "windows")).isTrue();
            assertThat(holds(h, "drift")).isTrue();
            String plan =
                    "{\"baseline\":\"v1\",\"canary_percent\":10,\"candidate\":\"v3\","
                            + "\"experiment\":\"fraud\",\"mode\":\"canary\",\"model\":\"fraud\","
                            + "\"plan_id\":\"fraud-v3\",\"salt\":\"s3\"}";
            h.processElement2(new StreamRecord<>(setPlan(plan, h.getProcessingTime())));
            assertThat(decisions(h))
                    .singleElement()
                    .satisfies(d -> assertThat(d.plan().planId()).isEqualTo("fraud-v3"));
            assertThat(holds(h, "windows")).isFalse();
            assertThat(holds(h, "drift")).isFalse();
        }
    }

    @Test
    void shouldApplyASignedSetPlanWithItsOwnPolicy() throws Exception {
        try (var h = harness()) {
            h.open();
            String plan =
                    "{\"alpha\":0.01,\"baseline\":\"v1\",\"canary_percent\":50,\"candidate\":\"v2\","
                            + "\"dry_run\":true,\"experiment\":\"fraud\",\"min_samples\":10,"
                            + "\"min_step_duration\":\"1 s\",\"mode\":\"canary\",\"model\":\"fraud\","
                            + "\"plan_id\":\"fraud-set\",\"salt\":\"s2\",\"schedule\":[50,100]}";
            h.processElement2(new StreamRecord<>(setPlan(plan, h.getProcessingTime())));
            Decision set = decisions(h).get(0);
            assertThat(set.verdict().dryRun()).isFalse(); // the command's plan itself applies
            assertThat(set.plan().planId()).isEqualTo("fraud-set");
            assertThat(set.plan().canaryPercent()).isEqualTo(50);
            assertThat(set.verdict().reasons())
                    .containsExactly("plan fraud-set set by command c-plan from alice");
            // judged from now on with the plan's policy: a dry run, promoting from 50 %
            window(h, 0, 2_000);
            Decision next = decisions(h).get(1);
            assertThat(next.verdict().action()).isEqualTo(Verdict.Action.PROMOTE);
            assertThat(next.verdict().dryRun()).isTrue();
            assertThat(next.plan()).isEqualTo(set.plan()); // dry run: routing unchanged
            assertThat(next.configHash()).isEqualTo(set.configHash()); // one policy, one hash
        }
    }

    @Test
    void shouldRollBackACandidateWhoseP99IsBeyondTheRatioOfTheControls() throws Exception {
        RolloutPolicy latencyPolicy =
                new RolloutPolicy(
                        List.of(10.0, 50.0, 100.0),
                        10_000,
                        100,
                        List.of(Guardrail.parse("latency_p99_ratio:0.01:critical:ratio=1.5")),
                        0.05,
                        0.001,
                        2,
                        false);
        try (KeyedTwoInputStreamOperatorTestHarness<
                        String, MonitoringRecord, SignedCommand, Decision>
                h = harness(PLAN, latencyPolicy)) {
            h.open();
            for (long w = 0;
                    w < 10
                            && decisions(h).stream()
                                    .noneMatch(
                                            d -> d.verdict().action() == Verdict.Action.ROLLBACK);
                    w++) {
                // control: 1 ms; candidate: 1 ms, but 5 % of its scorings take 10 ms
                io.canaryflow.operators.latency.LatencyHistogram slow =
                        new io.canaryflow.operators.latency.LatencyHistogram();
                for (int i = 0; i < 2_000; i++) {
                    slow.add(i % 20 == 0 ? 10_000 : 1_000);
                }
                MonitoringRecord control = report("v1", "control", w, 2_000, 0);
                MonitoringRecord candidate =
                        withLatency(report("v2", "candidate", w, 2_000, 0), slow.toSparse());
                h.processElement1(new StreamRecord<>(control, w * 1_000 + 999));
                h.processElement1(new StreamRecord<>(candidate, w * 1_000 + 999));
                h.processBothWatermarks(new Watermark(w * 1_000 + 999));
            }
            Decision last = decisions(h).get(decisions(h).size() - 1);
            assertThat(last.verdict().action()).isEqualTo(Verdict.Action.ROLLBACK);
            Verdict.GuardrailResult g = last.verdict().guardrails().get(0);
            assertThat(g.guardrail().metric()).isEqualTo(Guardrail.Metric.LATENCY_P99_RATIO);
            assertThat(g.candidateRate()).isEqualTo(0.05); // 1 in 20 above 1.5 x 1 ms
            assertThat(g.controlRate()).isZero();
            assertThat(
                            new String(
                                    ControlCodec.write(
                                            last,
                                            new io.canaryflow.operators.records.JsonWriter())))
                    .contains("\"ratio\":1.5", "\"slow\":100");
        }
    }

    static MonitoringRecord withLatency(
            MonitoringRecord r, io.canaryflow.operators.latency.LatencyHistogram.Sparse latency) {
        return new MonitoringRecord(
                r.experiment(),
                r.model(),
                r.version(),
                r.arm(),
                r.windowStart(),
                r.windowEnd(),
                r.count(),
                r.late(),
                r.featureNames(),
                r.featureDrift(),
                r.scoreDrift(),
                r.scoreVersusArm(),
                r.comparedArm(),
                r.latencyP50Us(),
                r.latencyP95Us(),
                r.latencyP99Us(),
                r.latencyLevel(),
                latency,
                r.scoreMoments(),
                r.sharedScoreCounts(),
                r.errors(),
                r.labels(),
                r.segments(),
                r.paired(),
                r.settings(),
                r.reportedAt(),
                0,
                null,
                null,
                null,
                null);
    }

    static final RolloutPlan SHADOW_PLAN =
            new RolloutPlan(
                    "shadow-p0",
                    "fraud",
                    "fraud",
                    RolloutPlan.Mode.SHADOW,
                    "salt",
                    "v1",
                    "v2",
                    0,
                    List.of());

    /**
     * Windows of a shadow experiment whose shadow flips the served decision on a share of events.
     */
    static List<Decision> shadowRun(double flipShare) throws Exception {
        RolloutPolicy policy =
                new RolloutPolicy(
                        List.of(10.0, 50.0, 100.0),
                        1_000,
                        100,
                        List.of(Guardrail.parse("flip_rate:0.05:critical")),
                        0.05,
                        0.001,
                        2,
                        false);
        try (KeyedTwoInputStreamOperatorTestHarness<
                        String, MonitoringRecord, SignedCommand, Decision>
                h = harness(SHADOW_PLAN, policy)) {
            h.open();
            for (long w = 0; w < 6 && h.extractOutputValues().size() < 1; w++) {
                long n = 2_000;
                long flips = Math.round(n * flipShare);
                MonitoringRecord served = report("v1", "baseline", w, n, 0);
                MonitoringRecord shadow = withPaired(report("v2", "shadow", w, n, 0), n, flips);
                h.processElement1(new StreamRecord<>(served, w * 1_000 + 999));
                h.processElement1(new StreamRecord<>(shadow, w * 1_000 + 999));
                h.processBothWatermarks(new Watermark(w * 1_000 + 999));
            }
            return decisions(h);
        }
    }

    @Test
    void shouldStartACanaryFromAShadowThatAgreesAndEndOneThatFlipsDecisions() throws Exception {
        Decision agrees = shadowRun(0.005).get(0);
        assertThat(agrees.verdict().action()).isEqualTo(Verdict.Action.ADVANCE);
        assertThat(agrees.plan().mode()).isEqualTo(RolloutPlan.Mode.CANARY);
        assertThat(agrees.plan().canaryPercent()).isEqualTo(10);
        assertThat(agrees.verdict().stepFrom()).isZero();
        Verdict.GuardrailResult g = agrees.verdict().guardrails().get(0);
        assertThat(g.candidateRate()).isEqualTo(0.005);
        assertThat(g.controlRate()).isZero();

        Decision flips = shadowRun(0.3).get(0);
        assertThat(flips.verdict().action()).isEqualTo(Verdict.Action.ROLLBACK);
        assertThat(flips.plan().mode()).isEqualTo(RolloutPlan.Mode.CANARY);
        assertThat(flips.plan().canaryPercent()).isZero();
        assertThat(flips.verdict().guardrails().get(0).result()).isEqualTo(Verdict.Result.FAIL);
    }

    static MonitoringRecord withPaired(MonitoringRecord r, long pairs, long flips) {
        MonitoringRecord.Paired paired =
                new MonitoringRecord.Paired(
                        pairs,
                        flips,
                        0,
                        (double) flips / pairs,
                        0,
                        0,
                        io.canaryflow.operators.drift.PairedTests.mcNemar(flips, 0),
                        io.canaryflow.operators.drift.PairedTests.wilcoxon(new double[0]));
        return new MonitoringRecord(
                r.experiment(),
                r.model(),
                r.version(),
                r.arm(),
                r.windowStart(),
                r.windowEnd(),
                r.count(),
                r.late(),
                r.featureNames(),
                r.featureDrift(),
                r.scoreDrift(),
                r.scoreVersusArm(),
                r.comparedArm(),
                r.latencyP50Us(),
                r.latencyP95Us(),
                r.latencyP99Us(),
                r.latencyLevel(),
                r.latency(),
                r.scoreMoments(),
                r.sharedScoreCounts(),
                r.errors(),
                r.labels(),
                r.segments(),
                paired,
                r.settings(),
                r.reportedAt(),
                0,
                null,
                null,
                null,
                null);
    }

    @Test
    void shouldJudgeTheMonitoringWindowsOfALongerJudgingWindowTogether() throws Exception {
        RolloutPolicy everyThree =
                new RolloutPolicy(
                        List.of(10.0, 50.0, 100.0),
                        0,
                        100,
                        POLICY.guardrails(),
                        0.05,
                        0.001,
                        2,
                        false,
                        3_000);
        try (KeyedTwoInputStreamOperatorTestHarness<
                        String, MonitoringRecord, SignedCommand, Decision>
                h = harness(PLAN, everyThree)) {
            h.open();
            window(h, 0, 1_000);
            window(h, 1, 1_000);
            assertThat(decisions(h)).isEmpty();
            window(h, 2, 1_000);
            assertThat(decisions(h))
                    .singleElement()
                    .satisfies(
                            d -> {
                                assertThat(d.verdict().windowStart()).isZero();
                                assertThat(d.verdict().windowEnd()).isEqualTo(3_000);
                                assertThat(d.verdict().control().attempts()).isEqualTo(3_000);
                            });
        }
    }

    static List<Decision> abRun(long candidateErrors) throws Exception {
        RolloutPlan ab =
                new RolloutPlan(
                        "ab-p0",
                        "fraud",
                        "fraud",
                        RolloutPlan.Mode.AB,
                        "salt",
                        null,
                        null,
                        0,
                        List.of(
                                new RolloutPlan.Variant("v1", 1),
                                new RolloutPlan.Variant("v2", 1)));
        try (KeyedTwoInputStreamOperatorTestHarness<
                        String, MonitoringRecord, SignedCommand, Decision>
                h = harness(ab, POLICY)) {
            h.open();
            for (long w = 0; w < 6 && decisions(h).isEmpty(); w++) {
                h.processElement1(
                        new StreamRecord<>(report("v1", "control", w, 2_000, 0), w * 1_000 + 999));
                h.processElement1(
                        new StreamRecord<>(
                                report("v2", "candidate", w, 2_000, candidateErrors),
                                w * 1_000 + 999));
                h.processBothWatermarks(new Watermark(w * 1_000 + 999));
            }
            return decisions(h);
        }
    }

    @Test
    void shouldEndATwoVariantAbTestWithTheVariantThatHoldsItsGuardrails() throws Exception {
        Decision good = abRun(0).get(0);
        assertThat(good.verdict().action()).isEqualTo(Verdict.Action.PROMOTE);
        assertThat(good.plan().baseline()).isEqualTo("v2");
        assertThat(good.plan().canaryPercent()).isZero();
        assertThat(good.verdict().srm().expectedCandidateShare()).isEqualTo(0.5);
        // the candidate variant fails one scoring in ten (as "unavailable"): rolled back
        Decision bad = abRun(200).get(0);
        assertThat(bad.verdict().action()).isEqualTo(Verdict.Action.ROLLBACK);
        assertThat(bad.plan().baseline()).isEqualTo("v1");
        assertThat(bad.plan().salt()).isNotEqualTo("salt");
    }
}
