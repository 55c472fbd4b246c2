package io.canaryflow.operators.records;

/** Why a record went to the dead-letter topic. */
public enum Reason {
    /** Not a JSON object of the feature-event shape, or a required field is absent or mistyped. */
    MALFORMED,
    /** A feature the experiment's models need is absent or null. */
    MISSING_FEATURE,
    /** A feature is NaN, infinite, or beyond the float32 range. */
    NON_FINITE,
    /** A dense feature array whose length is not the experiment's feature count. */
    WRONG_WIDTH,
    /** The experiment is not configured in this job. */
    UNKNOWN_EXPERIMENT,
    /** The record is larger than the configured maximum. */
    OVERSIZE,
    /**
     * The model could not score the record (load failure with no fallback, run failure, non-finite
     * output).
     */
    MODEL_FAILURE,
    /** A control command or decision whose signature does not verify. */
    BAD_SIGNATURE,
    /** A control command or decision without a signature. */
    UNSIGNED,
    /** A control command issued longer ago (or further ahead) than the accepted age. */
    STALE,
    /**
     * A control command whose id was seen before, or a decision older than the newest one routing
     * follows.
     */
    REPLAYED,
    /** A control command that is valid but cannot apply (unknown experiment, a bad plan). */
    REJECTED_COMMAND,
    /** A decision signed by a key the job does not trust (a rotated-out or foreign key). */
    UNTRUSTED_KEY
}
