package io.canaryflow.modelloader;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;

/**
 * A repository behind any Flink {@link FileSystem} URI (s3://, hdfs://, ... through Flink's
 * plugins). Only touched for such URIs, so local use needs no Flink on the class path.
 */
final class FlinkFileSystemStore implements RepositoryStore {
    private final URI root;

    FlinkFileSystemStore(URI root) {
        String s = root.toString();
        this.root = URI.create(s.endsWith("/") ? s : s + "/");
    }

    private Path path(String relative) {
        return new Path(root.resolve(relative));
    }

    @Override
    public byte[] read(String relativePath) throws IOException {
        Path p = path(relativePath);
        try (InputStream in = p.getFileSystem().open(p)) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        }
    }

    @Override
    public List<String> listDirectories(String relativeDir) throws IOException {
        Path dir = path(relativeDir);
        FileSystem fs = dir.getFileSystem();
        if (!fs.exists(dir)) {
            return List.of();
        }
        List<String> names = new ArrayList<>();
        for (FileStatus status : fs.listStatus(dir)) {
            if (status.isDir()) {
                names.add(status.getPath().getName());
            }
        }
        names.sort(null);
        return names;
    }

    @Override
    public String describe(String relativePath) {
        return root.resolve(relativePath).toString();
    }
}
