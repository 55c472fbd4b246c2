package io.canaryflow.jobs.automation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.canaryflow.operators.control.DecisionVerifier;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.routing.RolloutPlan;
import io.canaryflow.testing.Decisions;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AliasUpdaterTest {
    @TempDir Path repo;

    JsonNode aliases() throws Exception {
        return new ObjectMapper().readTree(repo.resolve("fraud/aliases.json").toFile());
    }

    @Test
    void shouldMoveProductionOnPromotionOnceAndKeepItOnRollback() throws Exception {
        AliasUpdater updater = new AliasUpdater(repo);
        RolloutPlan canary = Decisions.plan("p1", "v1", "v2", 50);
        RolloutPlan promoted = Decisions.plan("p2", "v2", "v2", 0);
        byte[] promote = Decisions.decision("d-1", Verdict.Action.PROMOTE, false, canary, promoted);
        assertThat(updater.apply(promote).changed()).isTrue();
        assertThat(aliases().get("production").asText()).isEqualTo("v2");
        // delivered again (a redelivery after a crash): applied once
        assertThat(updater.apply(promote).changed()).isFalse();
        assertThat(aliases().get("applied_decisions")).hasSize(1);

        RolloutPlan next = Decisions.plan("p3", "v2", "v3-bad", 10);
        RolloutPlan rolledBack = Decisions.plan("p4", "v2", "v3-bad", 0);
        assertThat(
                        updater.apply(
                                        Decisions.decision(
                                                "d-2",
                                                Verdict.Action.ROLLBACK,
                                                false,
                                                next,
                                                rolledBack,
                                                4_000))
                                .changed())
                .isTrue();
        assertThat(aliases().get("production").asText()).isEqualTo("v2");
        assertThat(aliases().get("rolled_back").get(0).asText()).isEqualTo("v3-bad");
        assertThat(aliases().get("last_decision").asText()).isEqualTo("d-2");
    }

    /**
     * Automations applying decisions to one repository at once (here four, as a process each would,
     * through their own updaters), each decision rolling back a candidate of its own: every one is
     * recorded, none lost to another's read-change-replace.
     */
    @Test
    void shouldLoseNoUpdateWhenAutomationsApplyDecisionsAtOnce() throws Exception {
        int writers = 4;
        int each = 40;
        java.util.concurrent.ExecutorService pool =
                java.util.concurrent.Executors.newFixedThreadPool(writers);
        java.util.List<java.util.concurrent.Future<Integer>> done = new java.util.ArrayList<>();
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        for (int w = 0; w < writers; w++) {
            int writer = w;
            done.add(
                    pool.submit(
                            () -> {
                                AliasUpdater updater = new AliasUpdater(repo);
                                start.await();
                                int changed = 0;
                                for (int i = 0; i < each; i++) {
                                    RolloutPlan canary =
                                            new RolloutPlan(
                                                    "p-" + writer + "-" + i,
                                                    "experiment-" + writer,
                                                    "fraud",
                                                    RolloutPlan.Mode.CANARY,
                                                    "salt",
                                                    "v1",
                                                    "c-" + writer + "-" + i,
                                                    10,
                                                    java.util.List.of());
                                    byte[] rollback =
                                            Decisions.decision(
                                                    "d-" + writer + "-" + i,
                                                    Verdict.Action.ROLLBACK,
                                                    false,
                                                    canary,
                                                    canary,
                                                    1_000 + i);
                                    if (updater.apply(rollback).changed()) {
                                        changed++;
                                    }
                                }
                                return changed;
                            }));
        }
        start.countDown();
        for (java.util.concurrent.Future<Integer> d : done) {
            assertThat(d.get(2, java.util.concurrent.TimeUnit.MINUTES)).isEqualTo(each);
        }
        pool.shutdown();
        java.util.Set<String> rolledBack = new java.util.HashSet<>();
        aliases().get("rolled_back").forEach(c -> rolledBack.add(c.asText()));
        java.util.Set<String> applied = new java.util.HashSet<>();
        aliases().get("applied_decisions").forEach(d -> applied.add(d.asText()));
        assertThat(rolledBack).hasSize(writers * each);
        assertThat(applied).hasSize(writers * each);
        for (int w = 0; w < writers; w++) {
            assertThat(aliases().get("newest_decided_at").get("experiment-" + w).asLong())
                    .isEqualTo(1_000 + each - 1);
        }
    }

    @Test
    void shouldRefuseADecisionNotDecidedAfterTheNewestAppliedOfItsExperiment() throws Exception {
        long hour = 3_600_000;
        long t = 1_700_000_000_000L;
        AliasUpdater updater = new AliasUpdater(repo);
        RolloutPlan first = Decisions.plan("p1", "v1", "v2", 50);
        RolloutPlan promotedV2 = Decisions.plan("p2", "v2", "v2", 0);
        byte[] oldPromotion =
                Decisions.decision("d-old", Verdict.Action.PROMOTE, false, first, promotedV2, t);
        assertThat(updater.apply(oldPromotion).changed()).isTrue();
        RolloutPlan second = Decisions.plan("p3", "v2", "v3", 50);
        RolloutPlan promotedV3 = Decisions.plan("p4", "v3", "v3", 0);
        assertThat(
                        updater.apply(
                                        Decisions.decision(
                                                "d-new",
                                                Verdict.Action.PROMOTE,
                                                false,
                                                second,
                                                promotedV3,
                                                t + 5 * hour))
                                .changed())
                .isTrue();
        assertThat(aliases().get("production").asText()).isEqualTo("v3");

        // the genuine old promotion written again: refused, production stays
        AliasUpdater.Outcome again = updater.apply(oldPromotion);
        assertThat(again.changed()).isFalse();
        assertThat(again.refusal().rejection()).isEqualTo(DecisionVerifier.Rejection.REPLAYED);
        assertThat(again.refusal().detail()).contains("d-old", "acted on before");
        // an old decision with an id beyond what the file remembers: refused by its time
        AliasUpdater.Outcome older =
                updater.apply(
                        Decisions.decision(
                                "d-forgotten",
                                Verdict.Action.PROMOTE,
                                false,
                                first,
                                promotedV2,
                                t + 4 * hour));
        assertThat(older.refusal().rejection()).isEqualTo(DecisionVerifier.Rejection.REPLAYED);
        assertThat(older.refusal().detail()).contains("d-forgotten", "3600000 ms later");
        assertThat(aliases().get("production").asText()).isEqualTo("v3");
        // another experiment of the same model (another judge task and clock): its decisions
        // are not ordered against this one's, so one decided a minute earlier still applies
        RolloutPlan otherExperiment =
                new RolloutPlan(
                        "p9",
                        "fraud-other",
                        "fraud",
                        RolloutPlan.Mode.CANARY,
                        "s",
                        "v4",
                        "v4",
                        0,
                        java.util.List.of());
        assertThat(
                        updater.apply(
                                        Decisions.decision(
                                                "d-other",
                                                Verdict.Action.PROMOTE,
                                                false,
                                                second,
                                                otherExperiment,
                                                t + 5 * hour - 60_000))
                                .changed())
                .isTrue();
        assertThat(aliases().get("production").asText()).isEqualTo("v4");
        // a later decision applies
        assertThat(
                        updater.apply(
                                        Decisions.decision(
                                                "d-later",
                                                Verdict.Action.ROLLBACK,
                                                false,
                                                second,
                                                promotedV3,
                                                t + 6 * hour))
                                .changed())
                .isTrue();
        // the state survives a restart of the automation (it is in the file)
        assertThat(new AliasUpdater(repo).apply(oldPromotion).refusal().rejection())
                .isEqualTo(DecisionVerifier.Rejection.REPLAYED);
    }

    @Test
    void shouldIgnoreDryRunsOtherActionsAndCommands() throws Exception {
        AliasUpdater updater = new AliasUpdater(repo);
        RolloutPlan a = Decisions.plan("p1", "v1", "v2", 10);
        RolloutPlan b = Decisions.plan("p2", "v2", "v2", 0);
        assertThat(
                        updater.apply(Decisions.decision("d-1", Verdict.Action.PROMOTE, true, a, b))
                                .changed())
                .isFalse();
        assertThat(
                        updater.apply(
                                        Decisions.decision(
                                                "d-2", Verdict.Action.ADVANCE, false, a, b))
                                .changed())
                .isFalse();
        assertThat(updater.apply("{\"type\":\"command\"}".getBytes()).changed()).isFalse();
        assertThat(updater.apply("not json".getBytes()).changed()).isFalse();
        assertThat(repo.resolve("fraud/aliases.json")).doesNotExist();
    }

    @Test
    void shouldNeverWriteOutsideTheRepositoryWhateverModelADecisionNames() throws Exception {
        Path inside = repo.resolve("repository");
        AliasUpdater updater = new AliasUpdater(inside);
        RolloutPlan good = Decisions.plan("p1", "v1", "v2", 50);
        for (String model : new String[] {"../escaped", "a/b", ".."}) {
            RolloutPlan forged =
                    new RolloutPlan(
                            "p2",
                            "fraud",
                            model,
                            RolloutPlan.Mode.CANARY,
                            "s",
                            "v2",
                            "v2",
                            0,
                            java.util.List.of());
            assertThat(
                            updater.apply(
                                            Decisions.decision(
                                                    "d-" + model,
                                                    Verdict.Action.PROMOTE,
                                                    false,
                                                    good,
                                                    forged))
                                    .changed())
                    .as(model)
                    .isFalse();
        }
        assertThat(repo.resolve("escaped")).doesNotExist();
        assertThat(inside.resolve("a")).doesNotExist();
    }
}
