package io.canaryflow.operators.decode;

import io.canaryflow.operators.records.DeadLetter;
import io.canaryflow.operators.records.FeatureEvent;

/** Either a valid event or the dead letter that says why there is none. */
public sealed interface DecodeResult {
    record Valid(FeatureEvent event) implements DecodeResult {}

    record Rejected(DeadLetter deadLetter) implements DecodeResult {}
}
