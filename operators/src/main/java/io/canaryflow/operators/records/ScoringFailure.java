package io.canaryflow.operators.records;

import java.util.Locale;

/** Why a model version did not score an event it was routed; counted as its inference error. */
public enum ScoringFailure {
    /** The version cannot be loaded (checksum, corrupt file, manifest mismatch, warm-up). */
    UNAVAILABLE,
    /** ONNX Runtime failed the row, alone as well as in its batch. */
    RUN_FAILURE,
    /** The model returned a NaN or infinite score. */
    NON_FINITE;

    /** The name on the wire: {@code unavailable}, {@code run_failure}, {@code non_finite}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
