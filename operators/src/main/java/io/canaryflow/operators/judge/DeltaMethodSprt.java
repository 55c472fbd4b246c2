package io.canaryflow.operators.judge;

/**
 * The {@link MixtureSprt mSPRT} applied to a cluster-robust estimate and its variance over units:
 * the asymptotic confidence sequence of Waudby-Smith, Arbour, Sinha, Kennedy and Ramdas
 * ("Time-uniform central limit theory and asymptotic confidence sequences", Annals of Statistics
 * 2024), in the form GrowthBook and Johari et al. use for a difference of means. Its evidence is
 * (estimate − boundary)² over the estimate's variance, so it grows with the information the rollout
 * has gathered: with the number of units and how evenly they weigh, not with a count of scorings
 * divided by a design effect that itself grows.
 *
 * <p>Two estimates are covered here; absolute differences of rates and means use {@link
 * MixtureSprt} directly with the same variance over units.
 *
 * <ul>
 *   <li>{@link #ratio}: the log of the candidate's rate over the control's, for relative thresholds
 *       ({@code inference_error_rate:+50%}). Its variance is the sum of each arm's relative
 *       variance, Var(R)/R², with Var(R) the arm's cluster-robust (delta-method) variance of its
 *       ratio of per-unit totals, written as design effect × binomial variance.
 *   <li>{@link #share}: the candidate's share of scorings above a latency cut against a boundary
 *       share (1 % for a p99), its variance the binomial one times the share's design effect over
 *       units.
 * </ul>
 *
 * <p>Each side is its own one-sided test, with the half-normal mixture over alternatives on its
 * side ({@link MixtureSprt#oneSidedLikelihoodRatio}): valid for the whole one-sided null.
 *
 * <p>At rare events a plug-in variance shrinks exactly when the observed count is low by chance. So
 * each side is tested with a variance never below its value at that side's boundary (as a score
 * test uses): for the ratio, the split of the rollout's events between the arms that the boundary
 * ratio predicts; for a share, the boundary share itself.
 */
final class DeltaMethodSprt {
    private DeltaMethodSprt() {}

    /**
     * One look: the estimate, the one-sided p-values of "harm" (the estimate beyond its harm
     * boundary) and of "pass" (within the pass boundary), and the always-valid one-sided bounds:
     * {@code lower} above the harm boundary is harm shown, {@code upper} below the pass boundary a
     * pass. p-values are min(1, 1/Λ) at this look; their running minimum is the always-valid one.
     * {@code harmZ} and {@code passZ} are the estimate's standard errors beyond each boundary, for
     * the planned final look ({@link FinalLook}), at information {@code harmU} and {@code passU}:
     * τ² over each side's variance.
     */
    record Look(
            double estimate,
            double harmP,
            double passP,
            double lower,
            double upper,
            double harmZ,
            double passZ,
            double harmU,
            double passU) {
        static final Look NONE =
                new Look(Double.NaN, 1, 1, Double.NaN, Double.NaN, Double.NaN, Double.NaN, 0, 0);
    }

    /**
     * The fixed-horizon one-sided p-value of an estimate {@code x} standard errors beyond its
     * boundary (1 − Φ(x)): valid at one look planned in advance, not at every look.
     */
    static double fixedP(double x) {
        return Double.isFinite(x)
                ? io.canaryflow.operators.drift.SpecialFunctions.normalCdf(-x)
                : x > 0 ? 0 : 1;
    }

    /**
     * The ratio of the candidate's rate to the control's.
     *
     * @param xc the control's events
     * @param nc its trials (attempts, or labelled predictions)
     * @param deffC its design effect over units (at least 1; infinite when the arm cannot be
     *     judged)
     * @param harmRatio the ratio harm must exceed (1.5 for {@code +50%})
     * @param passRatio the ratio a pass must stay under (at least {@code harmRatio})
     * @param tau the mixing distribution's standard deviation on the log-ratio scale
     * @param alpha the interval's level
     */
    static Look ratio(
            double xc,
            double nc,
            double deffC,
            double xk,
            double nk,
            double deffK,
            double harmRatio,
            double passRatio,
            double tau,
            double alpha) {
        if (!(nc > 0 && nk > 0)
                || !(deffC < Double.POSITIVE_INFINITY)
                || !(deffK < Double.POSITIVE_INFINITY)) {
            return Look.NONE;
        }
        double rc = (xc + 0.5) / (nc + 1);
        double rk = (xk + 0.5) / (nk + 1);
        double d = Math.log(rk / rc);
        double dc = Math.max(1, deffC);
        double dk = Math.max(1, deffK);
        // Var(ln R) = Var(R)/R² = deff·(1 − R)/(n·R) ≈ deff·(1 − R)/x
        double plugIn = dk * (1 - rk) / (xk + 0.5) + dc * (1 - rc) / (xc + 0.5);
        double vHarm = Math.max(plugIn, atBoundary(harmRatio, xc, nc, dc, rc, xk, nk, dk, rk));
        double vPass = Math.max(plugIn, atBoundary(passRatio, xc, nc, dc, rc, xk, nk, dk, rk));
        double tau2 = tau * tau;
        double h = Math.log(harmRatio);
        double p = Math.log(passRatio);
        double harmP = d > h ? MixtureSprt.oneSidedPValue(d, h, vHarm, tau2) : 1;
        double passP = d < p ? MixtureSprt.oneSidedPValue(-d, -p, vPass, tau2) : 1;
        return new Look(
                d,
                harmP,
                passP,
                d - MixtureSprt.oneSidedRadius(vHarm, tau2, alpha),
                d + MixtureSprt.oneSidedRadius(vPass, tau2, alpha),
                (d - h) / Math.sqrt(vHarm),
                (p - d) / Math.sqrt(vPass),
                tau2 / vHarm,
                tau2 / vPass);
    }

    /**
     * The log ratio's variance were the ratio at {@code boundary}: the rollout's x_c + x_k events
     * split between the arms as that ratio and the arms' trials predict.
     */
    private static double atBoundary(
            double boundary,
            double xc,
            double nc,
            double dc,
            double rc,
            double xk,
            double nk,
            double dk,
            double rk) {
        double pi = boundary * nk / (nc + boundary * nk);
        double events = xc + xk + 1;
        return dk * (1 - rk) / (events * pi) + dc * (1 - rc) / (events * (1 - pi));
    }

    /**
     * A share of scorings above a cut.
     *
     * @param above the candidate's scorings above the cut harm is tested at
     * @param aboveLow those above the cut a pass is tested at (at least as many)
     * @param n the candidate's scorings counted against the cuts
     * @param deff the share's design effect over units (at least 1; infinite when the arm cannot be
     *     judged)
     * @param harmShare the share harm must exceed (0.01 for a p99)
     * @param passShare the share a pass must stay under (at least {@code harmShare})
     * @param tau the mixing distribution's standard deviation, in share
     */
    static Look share(
            long above,
            long aboveLow,
            long n,
            double deff,
            double harmShare,
            double passShare,
            double tau,
            double alpha) {
        if (n <= 0 || !(deff < Double.POSITIVE_INFINITY)) {
            return Look.NONE;
        }
        double d = Math.max(1, deff);
        double high = (double) above / n;
        double low = (double) aboveLow / n;
        double vHarm = d * Math.max(high * (1 - high), harmShare * (1 - harmShare)) / n;
        double vPass = d * Math.max(low * (1 - low), passShare * (1 - passShare)) / n;
        double tau2 = tau * tau;
        double harmP =
                high > harmShare ? MixtureSprt.oneSidedPValue(high, harmShare, vHarm, tau2) : 1;
        double passP =
                low < passShare ? MixtureSprt.oneSidedPValue(-low, -passShare, vPass, tau2) : 1;
        return new Look(
                high,
                harmP,
                passP,
                high - MixtureSprt.oneSidedRadius(vHarm, tau2, alpha),
                low + MixtureSprt.oneSidedRadius(vPass, tau2, alpha),
                (high - harmShare) / Math.sqrt(vHarm),
                (passShare - low) / Math.sqrt(vPass),
                tau2 / vHarm,
                tau2 / vPass);
    }
}
