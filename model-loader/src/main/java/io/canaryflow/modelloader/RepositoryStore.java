package io.canaryflow.modelloader;

import java.io.IOException;
import java.util.List;

/** Byte access to a repository root; paths are relative and '/'-separated. */
interface RepositoryStore {
    byte[] read(String relativePath) throws IOException;

    /** Names of the direct sub-directories of {@code relativeDir}; empty if it does not exist. */
    List<String> listDirectories(String relativeDir) throws IOException;

    /** A full description of {@code relativePath} for messages. */
    String describe(String relativePath);
}
