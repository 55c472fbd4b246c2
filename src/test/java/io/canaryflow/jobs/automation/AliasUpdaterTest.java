package io.canaryflow.jobs.automation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
        assertThat(updater.apply(promote)).isTrue();
        assertThat(aliases().get("production").asText()).isEqualTo("v2");
        // delivered again (a redelivery after a crash): applied once
        assertThat(updater.apply(promote)).isFalse();
        assertThat(aliases().get("applied_decisions")).hasSize(1);

        RolloutPlan next = Decisions.plan("p3", "v2", "v3-bad", 10);
        RolloutPlan rolledBack = Decisions.plan("p4", "v2", "v3-bad", 0);
        assertThat(
                        updater.apply(
                                Decisions.decision(
                                        "d-2", Verdict.Action.ROLLBACK, false, next, rolledBack)))
                .isTrue();
        assertThat(aliases().get("production").asText()).isEqualTo("v2");
        assertThat(aliases().get("rolled_back").get(0).asText()).isEqualTo("v3-bad");
        assertThat(aliases().get("last_decision").asText()).isEqualTo("d-2");
    }

    @Test
    void shouldIgnoreDryRunsOtherActionsAndCommands() throws Exception {
        AliasUpdater updater = new AliasUpdater(repo);
        RolloutPlan a = Decisions.plan("p1", "v1", "v2", 10);
        RolloutPlan b = Decisions.plan("p2", "v2", "v2", 0);
        assertThat(updater.apply(Decisions.decision("d-1", Verdict.Action.PROMOTE, true, a, b)))
                .isFalse();
        assertThat(updater.apply(Decisions.decision("d-2", Verdict.Action.ADVANCE, false, a, b)))
                .isFalse();
        assertThat(updater.apply("{\"type\":\"command\"}".getBytes())).isFalse();
        assertThat(updater.apply("not json".getBytes())).isFalse();
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
                                            forged)))
                    .as(model)
                    .isFalse();
        }
        assertThat(repo.resolve("escaped")).doesNotExist();
        assertThat(inside.resolve("a")).doesNotExist();
    }
}
