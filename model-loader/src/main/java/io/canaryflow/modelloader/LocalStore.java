package io.canaryflow.modelloader;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** A repository on a local (or locally mounted) file system. */
final class LocalStore implements RepositoryStore {
    private final Path root;

    LocalStore(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    @Override
    public byte[] read(String relativePath) throws IOException {
        return Files.readAllBytes(root.resolve(relativePath));
    }

    @Override
    public List<String> listDirectories(String relativeDir) throws IOException {
        Path dir = root.resolve(relativeDir);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> children = Files.list(dir)) {
            return children.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .sorted()
                    .toList();
        }
    }

    @Override
    public String describe(String relativePath) {
        return root.resolve(relativePath).toString();
    }
}
