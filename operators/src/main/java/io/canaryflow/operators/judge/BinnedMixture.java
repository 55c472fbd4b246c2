package io.canaryflow.operators.judge;

import io.canaryflow.operators.drift.SpecialFunctions;

/**
 * An anytime-valid test that two arms' values fall into bins alike, for the score-PSI guardrail.
 *
 * <p>Given the bin, under the null hypothesis each observation belongs to the candidate with the
 * plan's share {@code s} (its arm does not depend on where its score falls). The likelihood ratio
 * of a uniform Beta(1, 1) mixture over each bin's candidate share against {@code s},
 *
 * <pre>Λ = Π_bins B(c_b + 1, k_b + 1) / (s^c_b (1 - s)^k_b)</pre>
 *
 * with {@code c_b} candidate and {@code k_b} control observations in bin b, is a nonnegative
 * martingale with mean 1 under the null, so P(Λ ever reaches 1/α) ≤ α (Ville's inequality) however
 * often it is looked at: the same reasoning as for the mSPRT and as in Lindon and Malek, "Anytime-
 * Valid Inference for Multinomial Count Data" (NeurIPS 2022).
 */
public final class BinnedMixture {
    private BinnedMixture() {}

    /** ln Λ for the candidate's and the control's counts per bin. */
    public static double logLikelihoodRatio(long[] candidate, long[] control, double share) {
        if (candidate.length != control.length) {
            throw new IllegalArgumentException(
                    candidate.length + " bins against " + control.length);
        }
        if (!(share > 0 && share < 1)) {
            throw new IllegalArgumentException("share must be in (0, 1), got " + share);
        }
        double log = 0;
        for (int b = 0; b < candidate.length; b++) {
            long c = candidate[b];
            long k = control[b];
            double logBeta =
                    SpecialFunctions.logGamma(c + 1)
                            + SpecialFunctions.logGamma(k + 1)
                            - SpecialFunctions.logGamma(c + k + 2);
            log += logBeta - c * Math.log(share) - k * Math.log(1 - share);
        }
        return log;
    }

    /** min(1, 1/Λ): this look's p-value; the always-valid one is its running minimum. */
    public static double pValue(long[] candidate, long[] control, double share) {
        return Math.min(1, Math.exp(-logLikelihoodRatio(candidate, control, share)));
    }
}
