package io.canaryflow.operators.judge;

import java.util.List;
import java.util.SplittableRandom;

/** Simulated rollouts for the judge's tests. */
final class JudgeScenarios {
    private JudgeScenarios() {}

    /** One critical inference-error guardrail with the given threshold, α 0.05. */
    static RolloutPolicy policy(double threshold, boolean dryRun) {
        return new RolloutPolicy(
                RolloutPolicy.DEFAULT_SCHEDULE,
                2_000,
                500,
                List.of(
                        new Guardrail(
                                Guardrail.Metric.INFERENCE_ERROR_RATE, threshold, true, 0.01)),
                0.05,
                0.001,
                2,
                dryRun);
    }

    static long binomial(SplittableRandom random, long n, double p) {
        long k = 0;
        for (long i = 0; i < n; i++) {
            if (random.nextDouble() < p) {
                k++;
            }
        }
        return k;
    }

    /** A window of {@code n} scorings per arm with the given error rates. */
    static Evidence window(
            SplittableRandom random, int w, long n, double controlRate, double candidateRate) {
        return new Evidence(
                w * 1_000L,
                (w + 1) * 1_000L,
                ArmCounts.builder().attempts(n).errors(binomial(random, n, controlRate)).build(),
                ArmCounts.builder().attempts(n).errors(binomial(random, n, candidateRate)).build(),
                0.5,
                true);
    }
}
