package io.canaryflow.operators.control;

import io.canaryflow.operators.records.SourceRecord;

/**
 * A control topic record as read, with its signature headers ({@link DecisionVerifier}).
 *
 * @param keyId the {@value DecisionVerifier#KEY_ID_HEADER} header's bytes, or null
 * @param signature the {@value DecisionVerifier#SIGNATURE_HEADER} header's bytes, or null
 */
public record ControlRecord(SourceRecord source, byte[] keyId, byte[] signature) {}
