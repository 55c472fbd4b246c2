package io.canaryflow.operators.records;

/**
 * An input record as it came off the source, undecoded: the bytes and where they came from. Kept so
 * that a dead letter can carry the original bytes and their position.
 *
 * @param value the record's bytes; may be null (a tombstone)
 * @param timestamp the source's timestamp in epoch milliseconds, or -1 if it has none
 */
public record SourceRecord(
        byte[] key, byte[] value, String topic, int partition, long offset, long timestamp) {}
