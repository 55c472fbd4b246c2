package io.canaryflow.operators.decode;

import io.canaryflow.operators.records.SourceRecord;
import java.io.Serializable;

/**
 * Decodes the records of one source as the source reads them. Never throws for bad input: a record
 * that cannot be decoded is a {@link Decoded} dead letter. One instance per source subtask;
 * implementations need not be thread-safe.
 */
public interface SourceDecoder extends Serializable {
    /**
     * Decodes one record.
     *
     * @param now processing time, stamped on a dead letter
     */
    Decoded read(SourceRecord record, long now);
}
