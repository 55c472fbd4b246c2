package io.canaryflow.operators.judge;

import io.canaryflow.operators.units.UnitSketch;

/**
 * The reference the judge's power is measured against: a fixed-horizon, one-sided z-test at α with
 * the cluster-robust (delta-method, CR0) variance over units, evaluated once on a rollout's data at
 * its end point — what an analyst would compute had they decided in advance to look only then. It
 * is not anytime-valid (looked at after every window it would reject a true null far more often
 * than α), so the sequential judge can at best approach its power.
 *
 * <p>Nor is it exact where a few units carry an arm: CR0 underestimates the variance over few
 * effective units, so at the boundary itself the test rejects more often than α (up to 2.7 × in the
 * heavy population of docs/calibration.md). {@link CalibrationReport} therefore also reports its
 * size-adjusted power: the share of rollouts beyond the critical value that a boundary scenario's
 * own z statistics put at α.
 *
 * @param harmZ how many standard errors the estimate lies beyond the harm threshold (−∞ where
 *     nothing can be tested)
 * @param passZ how many lie within the margin (−∞ where nothing can be tested)
 */
record Reference(double harmZ, double passZ) {
    /** The one-sided 95 % normal quantile. */
    static final double Z95 = 1.6448536269514722;

    private static final Reference NONE =
            new Reference(Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY);

    /** The z-test rejects "no harm beyond the threshold" at 5 %. */
    boolean harm() {
        return harmZ > Z95;
    }

    /** The z-test shows the candidate within the margin at 5 %. */
    boolean pass() {
        return passZ > Z95;
    }

    static Reference of(Guardrail g, ArmCounts control, ArmCounts candidate, double alpha) {
        if (Math.abs(alpha - 0.05) > 1e-12) {
            throw new IllegalArgumentException("the reference is tabulated for alpha 0.05");
        }
        Guardrail.Metric m = g.metric();
        if (m == Guardrail.Metric.LATENCY_P99_RATIO) {
            long n = candidate.cutScored();
            if (n == 0) {
                return NONE;
            }
            double deff = candidate.slowUnits() == null ? 1 : candidate.slowUnits().designEffect();
            double high = (double) candidate.slow() / n;
            double low = (double) candidate.slowLow() / n;
            double vh = Math.max(high * (1 - high), 1e-12) / n * deff;
            double vl = Math.max(low * (1 - low), 1e-12) / n * deff;
            return new Reference(
                    (high - 0.01 - g.threshold()) / Math.sqrt(vh),
                    (0.01 + g.margin() - low) / Math.sqrt(vl));
        }
        double[] k = rate(candidate, m);
        if (m == Guardrail.Metric.FLIP_RATE) {
            if (!(k[1] > 0)) {
                return NONE;
            }
            double z = 1 / Math.sqrt(k[1]);
            return new Reference((k[0] - g.threshold()) * z, (g.margin() - k[0]) * z);
        }
        double[] c = rate(control, m);
        if (!(k[1] > 0 && c[1] > 0)) {
            return NONE;
        }
        if (g.relative()) {
            if (!(k[0] > 0 && c[0] > 0)) {
                return NONE;
            }
            double d = Math.log(k[0] / c[0]);
            double se = Math.sqrt(k[1] / (k[0] * k[0]) + c[1] / (c[0] * c[0]));
            return new Reference(
                    (d - Math.log1p(g.threshold())) / se, (Math.log1p(g.margin()) - d) / se);
        }
        double d = k[0] - c[0];
        double se = Math.sqrt(k[1] + c[1]);
        return new Reference((d - g.threshold()) / se, (g.margin() - d) / se);
    }

    /** The arm's rate and its cluster-robust variance over units (the binomial one without). */
    private static double[] rate(ArmCounts arm, Guardrail.Metric m) {
        long n = arm.n(m);
        if (n == 0) {
            return new double[] {0, Double.NaN};
        }
        double x = arm.events(m);
        UnitSketch u =
                switch (m) {
                    case LABEL_ERROR_RATE -> arm.labelUnits();
                    case FLIP_RATE -> arm.pairUnits();
                    default -> arm.units();
                };
        double r = x / n;
        double v =
                u == null
                        ? r * (1 - r) / n
                        : u.ratioVariance(
                                UnitSketch.Quantity.ERRORS, UnitSketch.Quantity.ATTEMPTS, x, n);
        return new double[] {r, v};
    }
}
