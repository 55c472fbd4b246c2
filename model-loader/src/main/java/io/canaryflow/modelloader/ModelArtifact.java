package io.canaryflow.modelloader;

/**
 * A model version read from the repository whose file matched its manifest's checksum.
 *
 * @param location where the model file was read from, for messages
 */
public record ModelArtifact(
        ModelVersion id, Manifest manifest, byte[] modelBytes, String location) {}
