package io.canaryflow.operators.judge;

import io.canaryflow.operators.latency.LatencyHistogram;
import io.canaryflow.operators.units.LatencySketch;
import io.canaryflow.operators.units.UnitTail;

/**
 * The compared arms of one judging window as reports arrive: their counts, the candidate's scorings
 * that failed because its model could not be loaded, and each arm's latency histogram.
 *
 * @param start the window's start (of its first monitoring window when several are gathered)
 * @param unavailable the candidate's attempts that failed with {@code UNAVAILABLE}
 * @param controlLatency the control's latencies in the last monitoring window, or null
 * @param candidateLatency the candidate's, likewise
 * @param controlLatencyUnits the control's latencies per unit in the last monitoring window, or
 *     null
 * @param candidateLatencyUnits the candidate's, likewise
 */
public record WindowArms(
        long start,
        ArmCounts control,
        ArmCounts candidate,
        long unavailable,
        LatencyHistogram.Sparse controlLatency,
        LatencyHistogram.Sparse candidateLatency,
        LatencySketch controlLatencyUnits,
        LatencySketch candidateLatencyUnits) {

    /** Arms without latencies per unit. */
    public WindowArms(
            long start,
            ArmCounts control,
            ArmCounts candidate,
            long unavailable,
            LatencyHistogram.Sparse controlLatency,
            LatencyHistogram.Sparse candidateLatency) {
        this(start, control, candidate, unavailable, controlLatency, candidateLatency, null, null);
    }

    /** A window with nothing reported yet. */
    public static WindowArms empty(long start) {
        return new WindowArms(start, ArmCounts.NONE, ArmCounts.NONE, 0, null, null);
    }

    /** These arms with a report of the control added. */
    WindowArms plusControl(
            ArmCounts counts, LatencyHistogram.Sparse latency, LatencySketch latencyUnits) {
        return new WindowArms(
                start,
                control.plus(counts),
                candidate,
                unavailable,
                merge(controlLatency, latency),
                candidateLatency,
                covered(controlLatencyUnits, control.scored(), latencyUnits, counts.scored()),
                candidateLatencyUnits);
    }

    /** These arms with a report of the candidate added. */
    WindowArms plusCandidate(
            ArmCounts counts,
            long unavailableAttempts,
            LatencyHistogram.Sparse latency,
            LatencySketch latencyUnits) {
        return new WindowArms(
                start,
                control,
                candidate.plus(counts),
                unavailable + unavailableAttempts,
                controlLatency,
                merge(candidateLatency, latency),
                controlLatencyUnits,
                covered(candidateLatencyUnits, candidate.scored(), latencyUnits, counts.scored()));
    }

    /**
     * The sum of two sets' latencies per unit, or null when either has scorings without them (a
     * report from before latency sketches): a sketch of part of the scorings beside the exact
     * counts of all of them would make the design effect too small.
     */
    private static LatencySketch covered(
            LatencySketch have, long haveScored, LatencySketch add, long addScored) {
        boolean complete = (have != null || haveScored == 0) && (add != null || addScored == 0);
        return complete ? LatencySketch.sum(have, add) : null;
    }

    /**
     * A gathered judging window: these (earlier) arms' counts followed by {@code next}'s; the
     * latencies are the latest monitoring window's, as its counts are already cut by them.
     */
    WindowArms then(WindowArms next) {
        return new WindowArms(
                start,
                control.plus(next.control),
                candidate.plus(next.candidate),
                unavailable + next.unavailable,
                next.controlLatency,
                next.candidateLatency,
                next.controlLatencyUnits,
                next.candidateLatencyUnits);
    }

    /** Whether the candidate could be loaded: false when every attempt found it unavailable. */
    boolean candidateLoadable() {
        return !(candidate.attempts() > 0 && unavailable == candidate.attempts());
    }

    /**
     * These arms with their scorings slower than the latency guardrail's cuts counted: its ratio
     * times the upper (harm) and lower (pass) 99 % confidence bound of the control's p99 in this
     * window, as the control's p99 is itself estimated. Unchanged without both arms' latencies.
     *
     * <p>With latencies per unit, the bounds' width counts units, not scorings: the binomial
     * half-width of the control's p99 is widened by the square root of the design effect of its
     * share above its p99 (a few heavy units, all slow or all fast, move the control's p99 more
     * than independent scorings would), and the candidate's slow scorings are also counted per unit
     * ({@link UnitTail}, at the bin bounds at or below the upper cut and the candidate's own p99)
     * for the test's own design effect.
     */
    WindowArms cutAt(double ratio) {
        if (controlLatency == null || candidateLatency == null) {
            return this;
        }
        LatencyHistogram c = LatencyHistogram.fromSparse(controlLatency);
        LatencyHistogram k = LatencyHistogram.fromSparse(candidateLatency);
        if (c.count() == 0) {
            return this;
        }
        double deff = 1;
        if (controlLatencyUnits != null) {
            int bound = LatencySketch.floorBound(c.percentile(0.99));
            deff = tail(controlLatencyUnits, bound, bound, c).designEffect();
        }
        double half = 2.576 * Math.sqrt(0.99 * 0.01 * deff / c.count());
        double high = ratio * c.percentile(Math.min(0.99999, 0.99 + half));
        double low = ratio * c.percentile(Math.max(0.5, 0.99 - half));
        UnitTail slowUnits =
                candidateLatencyUnits == null || k.count() == 0
                        ? null
                        : tail(
                                candidateLatencyUnits,
                                LatencySketch.floorBound(high),
                                LatencySketch.floorBound(k.percentile(0.99)),
                                k);
        return new WindowArms(
                start,
                control.withLatency(c.count(), c.countAbove(high), c.countAbove(low), null),
                candidate.withLatency(k.count(), k.countAbove(high), k.countAbove(low), slowUnits),
                unavailable,
                controlLatency,
                candidateLatency,
                controlLatencyUnits,
                candidateLatencyUnits);
    }

    /** The sketch read at two bin bounds, with the histogram's exact counts at and above them. */
    private static UnitTail tail(
            LatencySketch sketch, int slowBound, int tailBound, LatencyHistogram h) {
        return UnitTail.of(
                sketch,
                slowBound,
                h.countAbove(LatencySketch.lowerBound(slowBound) - 0.5),
                tailBound,
                h.countAbove(LatencySketch.lowerBound(tailBound) - 0.5),
                h.count());
    }

    private static LatencyHistogram.Sparse merge(
            LatencyHistogram.Sparse a, LatencyHistogram.Sparse b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        LatencyHistogram h = LatencyHistogram.fromSparse(a);
        h.merge(LatencyHistogram.fromSparse(b));
        return h.toSparse();
    }
}
