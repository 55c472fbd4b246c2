package io.canaryflow.operators.decode;

import io.canaryflow.operators.records.Reason;

/** Thrown inside a decoder to reject a record with its reason; carries no stack trace. */
final class Reject extends Exception {
    private static final long serialVersionUID = 1L;

    final Reason reason;

    Reject(Reason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    /**
     * The record's bytes, or a rejection: {@code MALFORMED} when empty, {@code OVERSIZE} above
     * {@code maxBytes}.
     *
     * @param what how the messages name the record ("record", "label record")
     */
    static byte[] sized(byte[] bytes, int maxBytes, String what) throws Reject {
        if (bytes == null || bytes.length == 0) {
            throw new Reject(Reason.MALFORMED, "empty " + what);
        }
        if (bytes.length > maxBytes) {
            throw new Reject(
                    Reason.OVERSIZE,
                    String.format(
                            "%s has %d bytes, the limit is %d", what, bytes.length, maxBytes));
        }
        return bytes;
    }
}
