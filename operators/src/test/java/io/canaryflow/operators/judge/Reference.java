package io.canaryflow.operators.judge;

import io.canaryflow.operators.units.UnitSketch;

/**
 * The reference the judge's power is measured against: a fixed-horizon, one-sided z-test at α with
 * the cluster-robust (delta-method, CR0) variance over units, evaluated once on a rollout's data at
 * its end point — what an analyst would compute had they decided in advance to look only then. It
 * is not anytime-valid (looked at after every window it would reject a true null far more often
 * than α), so the sequential judge can at best approach its power.
 *
 * @param harm the z-test rejects "no harm beyond the threshold"
 * @param pass the z-test shows the candidate within the margin
 */
record Reference(boolean harm, boolean pass) {
    /** The one-sided 95 % normal quantile. */
    private static final double Z95 = 1.6448536269514722;

    static Reference of(Guardrail g, ArmCounts control, ArmCounts candidate, double alpha) {
        if (Math.abs(alpha - 0.05) > 1e-12) {
            throw new IllegalArgumentException("the reference is tabulated for alpha 0.05");
        }
        Guardrail.Metric m = g.metric();
        if (m == Guardrail.Metric.LATENCY_P99_RATIO) {
            long n = candidate.cutScored();
            if (n == 0) {
                return new Reference(false, false);
            }
            double deff = candidate.slowUnits() == null ? 1 : candidate.slowUnits().designEffect();
            double high = (double) candidate.slow() / n;
            double low = (double) candidate.slowLow() / n;
            double vh = Math.max(high * (1 - high), 1e-12) / n * deff;
            double vl = Math.max(low * (1 - low), 1e-12) / n * deff;
            return new Reference(
                    (high - 0.01 - g.threshold()) / Math.sqrt(vh) > Z95,
                    (low - 0.01 - g.margin()) / Math.sqrt(vl) < -Z95);
        }
        double[] k = rate(candidate, m);
        if (m == Guardrail.Metric.FLIP_RATE) {
            if (!(k[1] > 0)) {
                return new Reference(false, false);
            }
            double z = 1 / Math.sqrt(k[1]);
            return new Reference((k[0] - g.threshold()) * z > Z95, (k[0] - g.margin()) * z < -Z95);
        }
        double[] c = rate(control, m);
        if (!(k[1] > 0 && c[1] > 0)) {
            return new Reference(false, false);
        }
        if (g.relative()) {
            if (!(k[0] > 0 && c[0] > 0)) {
                return new Reference(false, false);
            }
            double d = Math.log(k[0] / c[0]);
            double se = Math.sqrt(k[1] / (k[0] * k[0]) + c[1] / (c[0] * c[0]));
            return new Reference(
                    (d - Math.log1p(g.threshold())) / se > Z95,
                    (d - Math.log1p(g.margin())) / se < -Z95);
        }
        double d = k[0] - c[0];
        double se = Math.sqrt(k[1] + c[1]);
        return new Reference((d - g.threshold()) / se > Z95, (d - g.margin()) / se < -Z95);
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
