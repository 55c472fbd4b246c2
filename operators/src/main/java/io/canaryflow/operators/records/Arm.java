package io.canaryflow.operators.records;

import java.util.Locale;

/** Which arm of an experiment an event was routed to. */
public enum Arm {
    /** Served by the baseline, not part of any comparison. */
    BASELINE,
    /** Served by the baseline, the cohort the candidate is compared with. */
    CONTROL,
    /** Served by the candidate. */
    CANDIDATE,
    /** Scored by the candidate alongside the served baseline, never served. */
    SHADOW;

    private final String wireName = name().toLowerCase(Locale.ROOT);

    /** The wire name, lower case. */
    public String wireName() {
        return wireName;
    }
}
