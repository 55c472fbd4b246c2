package io.canaryflow.operators.judge;

/**
 * Anytime-valid tests of a quantile: whether the share of a candidate's scorings above a cut
 * exceeds a boundary b (for a p99, b = 1 %: the candidate's p99 is at most the cut exactly when at
 * most 1 % of its scorings lie above it). The classical binomial quantile test, made sequential:
 * for an alternative share p₁ against b, the likelihood ratio (p₁/b)^x ((1 − p₁)/(1 − b))^(n − x)
 * of x scorings above the cut out of n is, window after window, a nonnegative supermartingale
 * whenever the true share is on the other side of b than p₁; the average over a grid of
 * alternatives (b·1.25^j above, b·0.8^j below) is an e-process, and Ville's inequality bounds the
 * chance that it ever reaches 1/α by α (the exceedance martingales behind Howard and Ramdas'
 * sequential quantile estimation, 2022). Exact, with no variance estimated, however few scorings
 * lie in the tail.
 *
 * <p><b>harm</b> rejects "share ≤ b" (a FAIL); <b>pass</b> rejects "share ≥ b + margin" (a PASS).
 * Each window may have its own cut; the judge counts against the upper 99 % confidence bound of the
 * control's p99 for harm and its lower bound for pass, so that the control's own sampling noise
 * never counts against the candidate, nor for it.
 */
public final class ExceedanceTest extends MixtureTest {
    private static final long serialVersionUID = 1L;

    private final double harmBoundary;
    private final double passBoundary;

    /**
     * @param boundary the tolerated share above the cut (0.01 for a p99)
     * @param passBoundary the share a PASS must be shown to stay under (at least {@code boundary})
     */
    public ExceedanceTest(double boundary, double passBoundary) {
        if (!(boundary > 0 && boundary < 1) || !(passBoundary >= boundary && passBoundary < 1)) {
            throw new IllegalArgumentException(
                    "need 0 < boundary <= pass boundary < 1, got "
                            + boundary
                            + " and "
                            + passBoundary);
        }
        this.harmBoundary = boundary;
        this.passBoundary = passBoundary;
    }

    /** Adds one window of independent scorings. */
    public void add(long aboveHarmCut, long abovePassCut, long n) {
        add(aboveHarmCut, abovePassCut, n, 1);
    }

    /**
     * Adds one window.
     *
     * @param aboveHarmCut scorings above the cut that harm is tested against
     * @param abovePassCut scorings above the cut that a pass is tested against
     * @param n the candidate's scorings
     * @param designEffect the accumulated evidence is divided by this (at least 1) at this look:
     *     the slow share's design effect over units, as units, not scorings, are randomized (Rao
     *     and Scott: counts divided by it behave like independent ones); exact only at 1
     */
    public void add(long aboveHarmCut, long abovePassCut, long n, double designEffect) {
        if (n > 0) {
            for (int j = 0; j < GRID; j++) {
                double up = Math.min(0.999999, harmBoundary * Math.exp((j + 1) * STEP));
                double down = passBoundary * Math.exp(-(j + 1) * STEP);
                harmLog[j] += logRatio(up, harmBoundary, aboveHarmCut, n);
                passLog[j] += logRatio(down, passBoundary, abovePassCut, n);
            }
        }
        look(designEffect);
    }

    private static double logRatio(double p1, double p0, long x, long n) {
        return x * Math.log(p1 / p0) + (n - x) * Math.log1p(-p1) - (n - x) * Math.log1p(-p0);
    }
}
