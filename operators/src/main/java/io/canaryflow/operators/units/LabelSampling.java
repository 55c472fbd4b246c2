package io.canaryflow.operators.units;

import java.io.Serializable;

/**
 * Which units' predictions wait for labels ({@code labels.sample-rate}): a unit is sampled when a
 * salted hash of it falls below the rate, so the same units are sampled in every arm, every task
 * and every run with the same salt, and a sampled unit's predictions all wait (label outcomes and
 * their variance over units stay unit-level). The hash is independent of the routing's, which
 * hashes the unit with the experiment's salt by SHA-256.
 *
 * @param rate the share of units sampled, in (0, 1]
 * @param salt mixed into the unit's hash ({@link UnitSketch#hash} of {@code labels.sample-salt})
 */
public record LabelSampling(double rate, long salt) implements Serializable {

    /** Every unit. */
    public static final LabelSampling ALL = new LabelSampling(1.0, 0);

    public LabelSampling {
        if (!(rate > 0 && rate <= 1)) {
            throw new IllegalArgumentException("labels.sample-rate must be in (0, 1], got " + rate);
        }
    }

    public static LabelSampling of(double rate, String salt) {
        return new LabelSampling(rate, UnitSketch.hash(salt));
    }

    /** Whether every unit is sampled. */
    public boolean all() {
        return rate >= 1;
    }

    /** Whether the unit of hash {@code unit} ({@link UnitSketch#hash}) is sampled. */
    public boolean sampled(long unit) {
        if (rate >= 1) {
            return true;
        }
        long z = unit ^ salt;
        z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
        z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
        z ^= z >>> 33;
        return (z >>> 11) * 0x1.0p-53 < rate;
    }
}
