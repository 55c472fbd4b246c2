package io.canaryflow.modelloader.synthetic;

import java.util.List;
import java.util.SplittableRandom;

/**
 * A synthetic card-payment stream with a known fraud mechanism, for the demo models, the demo
 * producer and the tests. Features are on O(1) scales; the label is drawn from a logistic model
 * with an interaction ({@code night x amount}) that a linear model cannot represent, so a
 * factorization machine can beat a logistic regression on it.
 *
 * <p>Deterministic for a given seed. Not thread-safe.
 */
public final class SyntheticFraud {

    /** Feature names, in lexicographic order (the column order Tribuo gives its models). */
    public static final List<String> FEATURES =
            List.of(
                    "account_age",
                    "amount",
                    "card_present",
                    "distance",
                    "merchant_risk",
                    "night",
                    "prior_chargebacks",
                    "velocity_1h");

    /** One generated transaction: feature values in {@link #FEATURES} order and its label. */
    public record Row(double[] features, boolean fraud, double probability) {}

    private final SplittableRandom random;

    public SyntheticFraud(long seed) {
        this.random = new SplittableRandom(seed);
    }

    public Row next() {
        double accountAge = -2.0 * Math.log(1 - random.nextDouble());
        double amount = Math.exp(0.8 * gaussian());
        double cardPresent = random.nextDouble() < 0.6 ? 1 : 0;
        double distance = Math.exp(gaussian());
        double merchantRisk = Math.pow(random.nextDouble(), 2);
        double night = random.nextDouble() < 0.25 ? 1 : 0;
        double priorChargebacks = poisson(0.2);
        double velocity = poisson(1.0);
        double z =
                -3.6
                        + 0.5 * amount
                        - 0.5 * accountAge
                        + 0.4 * velocity
                        + 0.25 * distance
                        + 1.5 * merchantRisk
                        - 0.9 * cardPresent
                        + 0.9 * priorChargebacks
                        + 1.4 * night * amount;
        double p = 1 / (1 + Math.exp(-z));
        double[] features = {
            accountAge,
            amount,
            cardPresent,
            distance,
            merchantRisk,
            night,
            priorChargebacks,
            velocity
        };
        return new Row(features, random.nextDouble() < p, p);
    }

    private double gaussian() {
        // Box-Muller; one of the pair is enough here.
        double u1 = 1 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private int poisson(double mean) {
        double limit = Math.exp(-mean);
        double product = random.nextDouble();
        int k = 0;
        while (product > limit) {
            product *= random.nextDouble();
            k++;
        }
        return k;
    }
}
