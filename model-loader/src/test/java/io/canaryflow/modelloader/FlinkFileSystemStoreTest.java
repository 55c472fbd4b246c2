package io.canaryflow.modelloader;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Flink {@code FileSystem} path of the repository, exercised through Flink's local file system
 * (the same code path serves s3:// and hdfs:// through Flink's plugins).
 */
class FlinkFileSystemStoreTest {
    @TempDir Path root;

    @Test
    void shouldReadFilesAndListVersionDirectoriesThroughFlinkFileSystem() throws Exception {
        Files.createDirectories(root.resolve("fraud/v1"));
        Files.createDirectories(root.resolve("fraud/v2"));
        Files.writeString(root.resolve("fraud/v1/manifest.json"), "{\"hello\":1}");
        Files.writeString(root.resolve("fraud/aliases.json"), "{}");

        FlinkFileSystemStore store = new FlinkFileSystemStore(root.toUri());
        assertThat(new String(store.read("fraud/v1/manifest.json"), StandardCharsets.UTF_8))
                .isEqualTo("{\"hello\":1}");
        assertThat(store.listDirectories("fraud")).containsExactly("v1", "v2");
        assertThat(store.listDirectories("nope")).isEmpty();
        assertThat(store.describe("fraud/v1/model.onnx"))
                .endsWith("fraud/v1/model.onnx")
                .startsWith("file:");
    }
}
