package io.canaryflow.operators.decode;

import io.canaryflow.operators.records.DeadLetter;

/**
 * Either a decoded value (a feature event, a label) or the dead letter that says why there is none.
 */
public sealed interface DecodeResult<T> {
    record Valid<T>(T value) implements DecodeResult<T> {}

    record Rejected<T>(DeadLetter deadLetter) implements DecodeResult<T> {}
}
