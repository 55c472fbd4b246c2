package io.canaryflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The shipped job jar (built in the package phase, before this test): native libraries of Linux
 * x86-64 and aarch64 only, no debug bundles, and what the job and its tools need to start.
 */
class JobJarITCase {
    static Path jobJar() throws Exception {
        List<Path> jars = new ArrayList<>();
        try (DirectoryStream<Path> d =
                Files.newDirectoryStream(Path.of("target"), "canaryflow-jobs-*-job.jar")) {
            d.forEach(jars::add);
        }
        assertThat(jars).as("the job jar in jobs/target").hasSize(1);
        return jars.get(0);
    }

    @Test
    void shouldCarryOnlyLinuxNativeLibrariesAndNoDebugBundles() throws Exception {
        Set<String> nativeDirs = new TreeSet<>();
        Set<String> classes = new TreeSet<>();
        try (ZipFile jar = new ZipFile(jobJar().toFile())) {
            for (ZipEntry e : java.util.Collections.list(jar.entries())) {
                String name = e.getName();
                assertThat(name).as("debug bundle").doesNotContain(".dSYM");
                if (name.matches(".*\\.(so|dll|dylib|jnilib|a)$")) {
                    nativeDirs.add(name.substring(0, name.lastIndexOf('/')));
                }
                classes.add(name);
            }
        }
        assertThat(nativeDirs)
                .isNotEmpty()
                .allSatisfy(
                        d ->
                                assertThat(d.toLowerCase(java.util.Locale.ROOT))
                                        .containsPattern("linux[-/](x64|amd64|x86_64|aarch64)$"));
        assertThat(nativeDirs)
                .contains("ai/onnxruntime/native/linux-x64", "ai/onnxruntime/native/linux-aarch64");
        assertThat(classes)
                .contains(
                        "io/canaryflow/jobs/InferenceJob.class",
                        "io/canaryflow/jobs/cli/ControlTool.class",
                        "io/canaryflow/jobs/demo/ProducerMain.class",
                        "io/canaryflow/modelloader/tools/ModelTool.class",
                        "picocli/CommandLine.class");
        System.out.printf("job jar %s: %,d bytes%n", jobJar(), Files.size(jobJar()));
    }
}
