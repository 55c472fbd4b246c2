package io.canaryflow.operators.judge;

import static io.canaryflow.operators.monitoring.TestReports.latency;
import static io.canaryflow.operators.monitoring.TestReports.report;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.canaryflow.operators.monitoring.TestReports;
import io.canaryflow.operators.routing.RolloutPlan;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The judge without Flink: reports gathered into windows, windows judged, commands applied. */
class RolloutTest {
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

    static final Guardrail ERRORS =
            new Guardrail(Guardrail.Metric.INFERENCE_ERROR_RATE, 0.01, true, 0.01);

    static RolloutPolicy policy(long windowMillis, Guardrail... guardrails) {
        return new RolloutPolicy(
                List.of(10.0, 50.0, 100.0),
                0,
                100,
                List.of(guardrails),
                0.05,
                0.001,
                2,
                false,
                windowMillis);
    }

    /** A rollout's state in maps, as a test keeps it. */
    static final class MapStore implements Rollout.Store {
        RolloutPlan plan;
        JudgeState judge;
        boolean paused;
        final Map<Long, WindowArms> windows = new HashMap<>();
        WindowArms gathering;

        @Override
        public RolloutPlan plan() {
            return plan;
        }

        @Override
        public void plan(RolloutPlan p) {
            plan = p;
        }

        @Override
        public JudgeState judge() {
            return judge;
        }

        @Override
        public void judge(JudgeState s) {
            judge = s;
        }

        @Override
        public boolean paused() {
            return paused;
        }

        @Override
        public void paused(boolean p) {
            paused = p;
        }

        @Override
        public WindowArms window(long end) {
            return windows.get(end);
        }

        @Override
        public void window(long end, WindowArms arms) {
            if (arms == null) {
                windows.remove(end);
            } else {
                windows.put(end, arms);
            }
        }

        @Override
        public WindowArms gathering() {
            return gathering;
        }

        @Override
        public void gathering(WindowArms arms) {
            gathering = arms;
        }

        final Map<Boolean, Long> through = new HashMap<>();

        @Override
        public List<Long> windowEnds() {
            return List.copyOf(windows.keySet());
        }

        @Override
        public long through(boolean labels) {
            return through.getOrDefault(labels, Long.MIN_VALUE);
        }

        @Override
        public void through(boolean labels, long end) {
            through.put(labels, end);
        }

        long replacedThrough = Long.MIN_VALUE;

        @Override
        public long replacedThrough() {
            return replacedThrough;
        }

        @Override
        public void replacedThrough(long end) {
            replacedThrough = end;
        }
    }

    /** The step of the last window judged when the window reports' time passes {@code end}. */
    static Rollout.Step ended(Rollout r, long end) throws Exception {
        List<Rollout.Judged> judged = r.windowEnded(end);
        return judged.isEmpty() ? null : judged.get(judged.size() - 1).step();
    }

    final MapStore store = new MapStore();

    Rollout rollout(RolloutPolicy policy) throws Exception {
        return Rollout.of("fraud", PLAN, policy, store);
    }

    /** Reports both arms of window w (n scorings each, the candidate's failing) and ends it. */
    Rollout.Step window(RolloutPolicy policy, long w, long n, long candidateFailed)
            throws Exception {
        rollout(policy).report(report("v1", "control", w, n, 0));
        rollout(policy).report(report("v2", "candidate", w, n, candidateFailed));
        return ended(rollout(policy), (w + 1) * 1_000);
    }

    /**
     * A rollout judged on labels waits, window by window, for the label join's time (its label
     * reports come later than its window reports): every run judges each window on the same
     * evidence. One without a label guardrail never waits, and takes no label reports.
     */
    @Test
    void shouldJudgeAWindowOnItsLabelsOnceTheirReportsAreCompleteAndNoOtherRolloutWaits()
            throws Exception {
        Guardrail labels = new Guardrail(Guardrail.Metric.LABEL_ERROR_RATE, 0.05, true, 0.05);
        RolloutPolicy policy = policy(0, labels);
        Rollout r = rollout(policy);
        r.report(report("v1", "control", 0, 200, 0));
        r.report(report("v2", "candidate", 0, 200, 0));
        assertThat(r.windowEnded(1_000)).isEmpty(); // window 0's labels are not known yet
        assertThat(store.windows).containsKey(1_000L);
        // its label outcomes come on the labels' time: into window 0 itself
        assertThat(r.report(TestReports.labelReport("v1", "control", 0, 300, 30)))
                .isEqualTo(new Rollout.Reported(false, false));
        assertThat(r.report(TestReports.labelReport("v2", "candidate", 0, 300, 240)))
                .isEqualTo(new Rollout.Reported(true, false));
        assertThat(store.windows.get(1_000L).candidate().labelled()).isEqualTo(300);
        assertThat(store.windows.get(1_000L).candidate().labelErrors()).isEqualTo(240);
        List<Rollout.Judged> judged = r.labelsThrough(1_000);
        assertThat(judged).extracting(Rollout.Judged::end).containsExactly(1_000L);
        // 80 % wrong against 10 %: a rollback, on window 0's own evidence
        assertThat(judged.get(0).step().verdict().action()).isEqualTo(Verdict.Action.ROLLBACK);
        assertThat(judged.get(0).step().verdict().windowEnd()).isEqualTo(1_000);
        assertThat(store.windows).isEmpty();

        // without a label guardrail: judged on the window reports alone, label reports ignored
        MapStore other = new MapStore();
        Rollout plain = Rollout.of("fraud", PLAN, policy(0, ERRORS), other);
        plain.report(report("v1", "control", 0, 200, 0));
        plain.report(report("v2", "candidate", 0, 200, 0));
        assertThat(plain.windowEnded(1_000))
                .extracting(Rollout.Judged::end)
                .containsExactly(1_000L);
        assertThat(plain.report(TestReports.labelReport("v2", "candidate", 0, 300, 240))).isNull();
        assertThat(other.windows).isEmpty();
    }

    @Test
    void shouldTakeOnlyTheComparedArmsAndOpenEachWindowOnce() throws Exception {
        Rollout r = rollout(policy(0, ERRORS));
        assertThat(Rollout.of("fraud", PLAN, null, store)).isNull(); // not judged
        assertThat(Rollout.of("fraud", null, policy(0, ERRORS), store)).isNull(); // no plan
        assertThat(r.report(report("v1", "stable", 0, 10, 0))).isNull();
        assertThat(r.report(report("v3", "candidate", 0, 10, 0))).isNull();
        assertThat(r.report(report("v1", "control", 0, 10, 0)))
                .isEqualTo(new Rollout.Reported(false, true));
        assertThat(r.report(report("v2", "candidate", 0, 7, 3)))
                .isEqualTo(new Rollout.Reported(true, false));
        assertThat(r.report(report("v1", "control", 0, 5, 0)))
                .isEqualTo(new Rollout.Reported(false, false));
        WindowArms arms = store.windows.get(1_000L);
        assertThat(arms.control().attempts()).isEqualTo(15);
        assertThat(arms.candidate().attempts()).isEqualTo(10);
        assertThat(arms.candidate().errors()).isEqualTo(3);
        assertThat(arms.unavailable()).isEqualTo(3);
    }

    @Test
    void shouldJudgeAnEndedWindowAndAdvanceThePlan() throws Exception {
        Rollout.Step step = window(policy(0, ERRORS), 0, 2_000, 0);
        assertThat(step.verdict().action()).isEqualTo(Verdict.Action.ADVANCE);
        assertThat(step.before()).isEqualTo(PLAN);
        assertThat(step.after().canaryPercent()).isEqualTo(50);
        assertThat(store.plan).isEqualTo(step.after());
        assertThat(store.windows).isEmpty();
        // the next window is judged from the stored state, on the plan it led to
        Rollout.Step next = window(policy(0, ERRORS), 1, 2_000, 0);
        assertThat(next.before()).isEqualTo(step.after());
        assertThat(next.verdict().action()).isEqualTo(Verdict.Action.PROMOTE);
        assertThat(next.after().baseline()).isEqualTo("v2"); // the candidate serves everyone
    }

    @Test
    void shouldGatherTheMonitoringWindowsOfALongerJudgingWindow() throws Exception {
        RolloutPolicy everyThree = policy(3_000, ERRORS);
        assertThat(window(everyThree, 0, 1_000, 0)).isNull();
        assertThat(window(everyThree, 1, 1_000, 0)).isNull();
        assertThat(store.gathering.control().attempts()).isEqualTo(2_000);
        Rollout.Step step = window(everyThree, 2, 1_000, 0);
        assertThat(step.verdict().windowStart()).isZero();
        assertThat(step.verdict().windowEnd()).isEqualTo(3_000);
        assertThat(step.verdict().control().attempts()).isEqualTo(3_000);
        assertThat(store.gathering).isNull();
    }

    @Test
    void shouldForgetWindowsWhilePausedAndJudgeAgainAfterAResume() throws Exception {
        assertThat(rollout(policy(0, ERRORS)).pause().accepted()).isTrue();
        assertThat(window(policy(0, ERRORS), 0, 2_000, 0)).isNull();
        assertThat(store.windows).isEmpty();
        assertThat(store.judge).isNull(); // nothing was judged
        rollout(policy(0, ERRORS)).resume();
        assertThat(window(policy(0, ERRORS), 1, 2_000, 0).verdict().action())
                .isEqualTo(Verdict.Action.ADVANCE);
    }

    @Test
    void shouldRollBackAnUnloadableCandidateAndRefuseCommandsAfterTheEnd() throws Exception {
        Rollout r = rollout(policy(0, ERRORS));
        r.report(report("v1", "control", 1, 500, 0));
        r.report(report("v2", "candidate", 1, 0, 50));
        Rollout.Step step = ended(r, 2_000);
        assertThat(step.verdict().action()).isEqualTo(Verdict.Action.ROLLBACK);
        assertThat(step.verdict().reasons())
                .containsExactly("the candidate version cannot be loaded");
        assertThat(step.after().canaryPercent()).isZero();
        Rollout.Outcome late = rollout(policy(0, ERRORS)).override(Verdict.Action.PROMOTE, 5, "x");
        assertThat(late.rejection()).isEqualTo("the rollout of 'fraud' has already ended");
    }

    @Test
    void shouldReplaceThePlanWithItsOwnPolicyOrRefuseItNamingTheProblem() throws Exception {
        ObjectMapper json = new ObjectMapper();
        RolloutPlan other =
                new RolloutPlan(
                        "other-p1",
                        "other",
                        "fraud",
                        RolloutPlan.Mode.CANARY,
                        "s",
                        "v1",
                        "v2",
                        5,
                        List.of());
        Rollout r = rollout(policy(0, ERRORS));
        assertThat(r.replace(other, json.readTree("{}"), 1, "x").rejection())
                .isEqualTo("the plan is for another experiment");
        Rollout.Outcome bad =
                r.replace(PLAN, json.readTree("{\"alpha\":2,\"fail_limit\":-1}"), 1, "x");
        assertThat(bad.rejection()).contains("plan.alpha").contains("plan.fail-limit");
        assertThat(store.plan).isNull(); // nothing changed
        Rollout.Outcome set =
                r.replace(
                        PLAN,
                        json.readTree(
                                "{\"schedule\":[10,100],\"min_samples\":10,"
                                        + "\"min_step_duration\":\"0 s\"}"),
                        7,
                        "plan set");
        assertThat(set.step().verdict().action()).isEqualTo(Verdict.Action.HOLD);
        assertThat(set.step().verdict().reasons()).containsExactly("plan set");
        assertThat(set.step().policy().schedule()).containsExactly(10.0, 100.0);
        assertThat(set.step().policy().minSamples()).isEqualTo(10);
        assertThat(set.step().policy().guardrails()).isNotEmpty();
        // the fresh judge runs on the plan's policy: its next step is the promotion
        Rollout.Step next = window(policy(0, ERRORS), 0, 2_000, 0);
        assertThat(next.verdict().action()).isEqualTo(Verdict.Action.PROMOTE);
    }

    /**
     * A plan a command sets mid judging window (here of three monitoring windows) is judged on its
     * own evidence: the windows gathered under the plan before, and their late reports, are not
     * added to the new plan's first judging window, which starts after the command.
     */
    @Test
    void shouldJudgeAReplacedPlanOnlyOnTheWindowsAfterIt() throws Exception {
        RolloutPolicy everyThree = policy(3_000, ERRORS);
        assertThat(window(everyThree, 0, 1_000, 900)).isNull(); // the old candidate failing
        assertThat(window(everyThree, 1, 1_000, 900)).isNull();
        assertThat(
                        rollout(everyThree)
                                .replace(PLAN, new ObjectMapper().readTree("{}"), 2_500, "plan set")
                                .accepted())
                .isTrue();
        assertThat(store.gathering).isNull();
        // a late report of a window before the command: not this plan's evidence
        assertThat(rollout(everyThree).report(report("v2", "candidate", 1, 500, 500))).isNull();
        assertThat(window(everyThree, 2, 1_000, 0)).isNull();
        assertThat(window(everyThree, 3, 1_000, 0)).isNull();
        Rollout.Step step = window(everyThree, 4, 1_000, 0);
        assertThat(step.verdict().windowStart()).isEqualTo(2_000);
        assertThat(step.verdict().candidate().errors()).isZero();
        assertThat(step.verdict().action()).isNotEqualTo(Verdict.Action.ROLLBACK);
    }

    @Test
    void shouldCountScoringsBeyondTheLatencyRatioOfTheControlsP99() throws Exception {
        Guardrail p99 = Guardrail.parse("latency_p99_ratio:2:critical");
        Rollout r = rollout(policy(3_000, p99));
        // the control scores in 1 ms, the candidate 1,000 in 1 ms and 40 in 5 ms: with the ratio
        // 2, both cuts sit at 2 ms, and exactly the candidate's 40 slow scorings lie beyond them
        r.report(report("v1", "control", 0, 1_000, 0));
        io.canaryflow.operators.latency.LatencyHistogram candidate =
                io.canaryflow.operators.latency.LatencyHistogram.fromSparse(latency(1_000, 1_000));
        candidate.merge(
                io.canaryflow.operators.latency.LatencyHistogram.fromSparse(latency(40, 5_000)));
        r.report(report("v2", "candidate", 0, 1_040, 0, candidate.toSparse()));
        assertThat(ended(r, 1_000)).isNull(); // gathering
        assertThat(store.gathering.control().scored()).isEqualTo(1_000);
        assertThat(store.gathering.control().slow()).isZero();
        assertThat(store.gathering.candidate().scored()).isEqualTo(1_040);
        assertThat(store.gathering.candidate().slow()).isEqualTo(40);
        assertThat(store.gathering.candidate().slowLow()).isEqualTo(40);
    }

    @Test
    void shouldCountEachScoringOnceWhenMonitoringWindowsSlide() throws Exception {
        // windows of 3 s sliding by 1 s: each scoring is in three reports; the judge takes the
        // windows that tile time, [0, 3 s), [3 s, 6 s), ...
        MapStore store = new MapStore();
        Rollout r = Rollout.of("fraud", PLAN, policy(0, ERRORS), store);
        long reported = 0;
        for (long start = 0; start <= 6_000; start += 1_000) {
            long end = start + 3_000;
            Rollout.Reported control =
                    r.report(
                            io.canaryflow.operators.monitoring.TestReports.report(
                                    "v1", "control", start, end, 300, 0, latency(300, 1_000)));
            r.report(
                    io.canaryflow.operators.monitoring.TestReports.report(
                            "v2", "candidate", start, end, 300, 0, latency(300, 1_000)));
            assertThat(control != null).isEqualTo(start % 3_000 == 0);
            reported += control != null ? 300 : 0;
        }
        Rollout.Step first = ended(r, 3_000);
        Rollout.Step second = ended(r, 6_000);
        Rollout.Step third = ended(r, 9_000);
        assertThat(ended(r, 4_000)).isNull(); // a sliding window's end: nothing to judge
        long judged = 0;
        for (Rollout.Step s : List.of(first, second, third)) {
            judged += s.verdict().control().attempts();
        }
        assertThat(judged).isEqualTo(reported).isEqualTo(900);
    }
}
