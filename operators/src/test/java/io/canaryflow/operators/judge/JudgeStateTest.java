package io.canaryflow.operators.judge;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.SplittableRandom;
import org.apache.flink.api.common.serialization.SerializerConfigImpl;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.java.typeutils.GenericTypeInfo;
import org.apache.flink.api.java.typeutils.PojoTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Test;

/** The judge's state as Flink keeps it: typed, every field Flink's own, and a faithful copy. */
class JudgeStateTest {

    static RolloutPolicy policy() {
        return RolloutPolicy.fromFields(
                Map.of(
                        "min-step-duration", "2 s",
                        "min-samples", "500",
                        "guardrails",
                                "inference_error_rate:+30%:critical:margin=+50%,"
                                        + "score_shift:0.02:tau=0.01,"
                                        + "latency_p99_ratio:0.01:ratio=2.0:margin=0.02",
                        "max-step-duration", "90 s",
                        "timeout-action", "promote",
                        "alpha", "0.1"),
                "");
    }

    /** A judge 12 windows into a rollout of heavy-tailed units, with the traffic to go on with. */
    record Warmed(SplittableRandom random, UnitTraffic traffic, Judge judge) {
        static Warmed judged(long seed) {
            SplittableRandom random = new SplittableRandom(seed);
            UnitTraffic traffic = new UnitTraffic(random, 2_000, 1.5, 3.0, 0.01, 0.5);
            Judge judge = new Judge(policy(), 0);
            for (int w = 0; w < 12; w++) {
                judge.judge(traffic.window(random, w, 1.2, 1.0, true));
            }
            return new Warmed(random, traffic, judge);
        }

        /** The same windows from here on to both: the same verdicts, to the last p-value. */
        void judgesOnAlike(Judge copy) {
            for (int w = 12; w < 40 && !judge.done(); w++) {
                Evidence e = traffic.window(random, w, 1.2, 1.0, true);
                Verdict original = judge.judge(e);
                Verdict restored = copy.judge(e);
                assertThat(restored.action()).isEqualTo(original.action());
                assertThat(restored.stepTo()).isEqualTo(original.stepTo());
                assertThat(restored.reasons()).isEqualTo(original.reasons());
                assertThat(restored.srm()).isEqualTo(original.srm());
                for (int g = 0; g < original.guardrails().size(); g++) {
                    assertThat(restored.guardrails().get(g).pValue())
                            .isEqualTo(original.guardrails().get(g).pValue());
                    assertThat(restored.guardrails().get(g).upper())
                            .isEqualTo(original.guardrails().get(g).upper());
                }
            }
            assertThat(copy.done()).isEqualTo(judge.done());
        }
    }

    @Test
    void shouldBeAPojoOfFlinkTypesAllTheWayDown() {
        TypeInformation<JudgeState> info = TypeInformation.of(JudgeState.class);
        assertThat(info).isInstanceOf(PojoTypeInfo.class);
        PojoTypeInfo<JudgeState> pojo = (PojoTypeInfo<JudgeState>) info;
        for (int i = 0; i < pojo.getArity(); i++) {
            TypeInformation<?> field = pojo.getTypeAt(i);
            assertThat(field).as(pojo.getFieldNames()[i]).isNotInstanceOf(GenericTypeInfo.class);
            if (field instanceof PojoTypeInfo<?> nested) {
                for (int j = 0; j < nested.getArity(); j++) {
                    assertThat(nested.getTypeAt(j))
                            .as(pojo.getFieldNames()[i] + "." + nested.getFieldNames()[j])
                            .isNotInstanceOf(GenericTypeInfo.class);
                }
            }
        }
    }

    @Test
    void shouldReadThePolicyBackFromItsFields() {
        RolloutPolicy p = policy();
        assertThat(RolloutPolicy.fromFields(p.toFields(), "")).isEqualTo(p);
        RolloutPolicy defaults = RolloutPolicy.fromFields(Map.of(), "");
        assertThat(RolloutPolicy.fromFields(defaults.toFields(), "")).isEqualTo(defaults);
    }

    @Test
    void shouldJudgeOnExactlyAsBeforeAfterARoundTripThroughFlinksSerializer() throws Exception {
        Warmed run = Warmed.judged(5);
        TypeSerializer<JudgeState> serializer =
                TypeInformation.of(JudgeState.class).createSerializer(new SerializerConfigImpl());
        DataOutputSerializer out = new DataOutputSerializer(1 << 16);
        serializer.serialize(run.judge().state(), out);
        JudgeState read = serializer.deserialize(new DataInputDeserializer(out.getCopyOfBuffer()));
        run.judgesOnAlike(Judge.restore(read));
    }

    @Test
    void shouldGoOnFromAJudgeJavaSerializedByAnEarlierVersion() throws Exception {
        SplittableRandom random = new SplittableRandom(8);
        Judge judge = new Judge(JudgeScenarios.policy(0.01, false));
        for (int w = 0; w < 5; w++) {
            judge.judge(JudgeScenarios.window(random, w, 2_000, 0.01, 0.01));
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream o = new java.io.ObjectOutputStream(bytes)) {
            o.writeObject(judge);
        }
        Judge legacy;
        try (java.io.ObjectInputStream in =
                new java.io.ObjectInputStream(
                        new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            legacy = ((Judge) in.readObject()).repairedAfterLegacyRestore();
        }
        Evidence next = JudgeScenarios.window(random, 5, 2_000, 0.01, 0.01);
        assertThat(legacy.judge(next).action()).isEqualTo(judge.judge(next).action());
    }

    @Test
    void shouldRestoreAStateFromTheVersionBeforeTimeoutsPausedAndScoringsWereAccounted()
            throws Exception {
        Warmed run = Warmed.judged(9);
        Judge judge = run.judge();
        // written by a serializer without the fields this version added: the judge's awaiting
        // and finalLookTaken, and each ArmCounts' lost
        JudgeState read =
                throughOlderSavepoint(
                        judge.state(), java.util.Set.of("awaiting", "finalLookTaken", "lost"));
        assertThat(read.awaiting()).isFalse();
        assertThat(read.finalLookTaken()).isFalse();
        assertThat(read.candidate().lost()).isZero();
        assertThat(read.candidate().attempts()).isEqualTo(judge.state().candidate().attempts());
        run.judgesOnAlike(Judge.restore(read));
    }

    /**
     * {@code state} written by a POJO serializer without the fields named {@code absent} (at the
     * top and in its nested {@link ArmCounts}), with that serializer's snapshot, and read back as a
     * restore does: the current serializer resolved against the old snapshot.
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static JudgeState throughOlderSavepoint(JudgeState state, java.util.Set<String> absent)
            throws Exception {
        org.apache.flink.api.common.serialization.SerializerConfig config =
                new SerializerConfigImpl();
        PojoTypeInfo<JudgeState> info =
                (PojoTypeInfo<JudgeState>) TypeInformation.of(JudgeState.class);
        org.apache.flink.api.java.typeutils.runtime.PojoSerializer<JudgeState> older =
                (org.apache.flink.api.java.typeutils.runtime.PojoSerializer<JudgeState>)
                        without(info, absent, config);
        DataOutputSerializer data = new DataOutputSerializer(1 << 20);
        older.serialize(state, data);
        DataOutputSerializer snapshot = new DataOutputSerializer(1 << 12);
        org.apache.flink.api.common.typeutils.TypeSerializerSnapshot.writeVersionedSnapshot(
                snapshot, older.snapshotConfiguration());
        org.apache.flink.api.common.typeutils.TypeSerializerSnapshot<JudgeState> restored =
                org.apache.flink.api.common.typeutils.TypeSerializerSnapshot.readVersionedSnapshot(
                        new DataInputDeserializer(snapshot.getCopyOfBuffer()),
                        JudgeStateTest.class.getClassLoader());
        var compatibility =
                info.createSerializer(config)
                        .snapshotConfiguration()
                        .resolveSchemaCompatibility(restored);
        assertThat(compatibility.isCompatibleAfterMigration()).isTrue();
        return restored.restoreSerializer()
                .deserialize(new DataInputDeserializer(data.getCopyOfBuffer()));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static TypeSerializer<?> without(
            PojoTypeInfo<?> info,
            java.util.Set<String> absent,
            org.apache.flink.api.common.serialization.SerializerConfig config) {
        java.util.List<java.lang.reflect.Field> fields = new java.util.ArrayList<>();
        java.util.List<TypeSerializer<?>> serializers = new java.util.ArrayList<>();
        for (int i = 0; i < info.getArity(); i++) {
            org.apache.flink.api.java.typeutils.PojoField field = info.getPojoFieldAt(i);
            if (absent.contains(field.getField().getName())) {
                continue;
            }
            fields.add(field.getField());
            TypeInformation<?> type = field.getTypeInformation();
            serializers.add(
                    type instanceof PojoTypeInfo<?> nested
                                    && nested.getTypeClass() == ArmCounts.class
                            ? without(nested, absent, config)
                            : type.createSerializer(config));
        }
        return new org.apache.flink.api.java.typeutils.runtime.PojoSerializer(
                info.getTypeClass(),
                serializers.toArray(TypeSerializer[]::new),
                fields.toArray(java.lang.reflect.Field[]::new),
                config);
    }

    @Test
    void shouldMigrateAStateThatKeptItsTestsInParallelArrays() {
        Warmed run = Warmed.judged(17);
        JudgeState s = run.judge().state();
        int m = s.guardrails().length;
        double[] runningP = new double[m];
        double[][] ratioHarm = new double[m][];
        double[][] ratioPass = new double[m][];
        double[][] quantileHarm = new double[m][];
        double[][] quantilePass = new double[m][];
        for (int i = 0; i < m; i++) {
            GuardrailState g = s.guardrails()[i];
            runningP[i] = g.runningP();
            boolean latency = g.guardrail().startsWith("latency_p99_ratio");
            (latency ? quantileHarm : ratioHarm)[i] = g.harmLogs();
            (latency ? quantilePass : ratioPass)[i] = g.passLogs();
        }
        assertThat(ratioHarm[0]).isNotNull(); // the relative guardrail kept an e-process
        assertThat(quantileHarm[2]).isNotNull(); // and the latency one
        // as a version before typed guardrail states wrote it
        JudgeState legacy =
                new JudgeState(
                        s.policy(),
                        s.step(),
                        s.stepStartedAt(),
                        s.rolloutStartedAt(),
                        s.stepControl(),
                        s.stepCandidate(),
                        s.control(),
                        s.candidate(),
                        s.splitControl(),
                        s.splitCandidate(),
                        s.srmRunningP(),
                        s.srmUnitsRunningP(),
                        runningP,
                        ratioHarm,
                        ratioPass,
                        new double[m][],
                        s.failedInARow(),
                        s.done(),
                        s.shadow(),
                        s.ab(),
                        s.share(),
                        quantileHarm,
                        quantilePass,
                        new double[m][],
                        false,
                        false,
                        null);
        Judge migrated = Judge.restore(legacy);
        assertThat(migrated.state().guardrails())
                .usingRecursiveFieldByFieldElementComparator()
                .containsExactly(s.guardrails());
        run.judgesOnAlike(migrated);
    }

    @Test
    void shouldRepairAJavaSerializedJudgeOfAVersionWithoutTypedTests() throws Exception {
        Judge judge = Warmed.judged(23).judge();
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(judge);
        }
        Judge old;
        try (java.io.ObjectInputStream in =
                new java.io.ObjectInputStream(
                        new java.io.ByteArrayInputStream(bytes.toByteArray()))) {
            old = (Judge) in.readObject();
        }
        // what Java serialization leaves of fields an older class did not have
        for (String field : new String[] {"tests", "policyLines"}) {
            java.lang.reflect.Field f = Judge.class.getDeclaredField(field);
            f.setAccessible(true);
            f.set(old, null);
        }
        Judge repaired = old.repairedAfterLegacyRestore();
        assertThat(repaired.state().guardrails()).hasSize(3);
        assertThat(repaired.state().candidate().attempts())
                .isEqualTo(judge.state().candidate().attempts());
        assertThat(repaired.done()).isEqualTo(judge.done());
        assertThat(repaired.currentPercent()).isEqualTo(judge.currentPercent());
    }
}
