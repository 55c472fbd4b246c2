package io.canaryflow.operators.drift;

import io.canaryflow.modelloader.ReferenceBins;
import java.io.Serializable;
import java.util.List;

/**
 * Counts of values per reference bin, one histogram per measured quantity (each feature, the
 * score), pre-aggregated on the heap: adding a value is a binary search over the reference edges
 * and an increment. Non-finite values are counted apart, never binned and never dropped.
 *
 * <p>Not thread-safe. Two histograms over the same references merge by adding counts.
 */
public final class Histograms implements Serializable {
    private static final long serialVersionUID = 1L;

    private final ReferenceBins[] references;
    private final long[][] counts;
    private final long[] nonFinite;

    /** Empty histograms over {@code references}, in the order values will be added. */
    public Histograms(List<ReferenceBins> references) {
        this.references = references.toArray(ReferenceBins[]::new);
        this.counts = new long[this.references.length][];
        for (int i = 0; i < counts.length; i++) {
            counts[i] = new long[this.references[i].bins()];
        }
        this.nonFinite = new long[this.references.length];
    }

    /** Counts {@code value} for quantity {@code index}. */
    public void add(int index, double value) {
        if (Double.isFinite(value)) {
            counts[index][references[index].binOf(value)]++;
        } else {
            nonFinite[index]++;
        }
    }

    /** Adds another histogram's counts to this one's. */
    public void merge(Histograms other) {
        if (other.references.length != references.length) {
            throw new IllegalArgumentException(
                    String.format(
                            "cannot merge histograms of %d and %d quantities",
                            references.length, other.references.length));
        }
        for (int i = 0; i < counts.length; i++) {
            if (other.counts[i].length != counts[i].length) {
                throw new IllegalArgumentException("quantity " + i + " has different bins");
            }
            for (int b = 0; b < counts[i].length; b++) {
                counts[i][b] += other.counts[i][b];
            }
            nonFinite[i] += other.nonFinite[i];
        }
    }

    public int quantities() {
        return counts.length;
    }

    /** A copy of quantity {@code index}'s bin counts. */
    public long[] counts(int index) {
        return counts[index].clone();
    }

    public long nonFinite(int index) {
        return nonFinite[index];
    }

    public ReferenceBins reference(int index) {
        return references[index];
    }
}
