package io.canaryflow.operators.judge;

/**
 * What the judge learns from one monitoring window of an experiment.
 *
 * @param candidateShare the candidate's expected share of control + candidate traffic under the
 *     plan (0.5 for a canary with its symmetric control cohort)
 * @param candidateLoadable false if the candidate version cannot be loaded
 */
public record Evidence(
        long windowStart,
        long windowEnd,
        ArmCounts control,
        ArmCounts candidate,
        double candidateShare,
        boolean candidateLoadable) {}
