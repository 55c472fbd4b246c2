package io.canaryflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Builds the job image from deploy/docker/Dockerfile where a Docker engine answers, and checks that
 * it runs as the flink user with the job jar in place. Skipped, with the reason, where none does
 * (the project's own build machines have no Docker engine; {@code DeploymentFilesTest} then checks
 * the Dockerfile against the base image's user).
 */
class DockerImageITCase {
    static final Path ROOT = Path.of("..");

    /** Runs a command from the repository root; its exit code and output. */
    static Object[] run(List<String> command, long timeoutSeconds) throws Exception {
        Process p;
        try {
            p =
                    new ProcessBuilder(command)
                            .directory(ROOT.toFile())
                            .redirectErrorStream(true)
                            .start();
        } catch (java.io.IOException e) {
            return new Object[] {-1, e.getMessage()};
        }
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Object[] {-1, "timed out after " + timeoutSeconds + " s"};
        }
        return new Object[] {
            p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
        };
    }

    @Test
    void shouldBuildTheImageAndRunAsTheFlinkUser() throws Exception {
        Object[] info = run(List.of("docker", "info", "--format", "{{.ServerVersion}}"), 30);
        Assumptions.assumeTrue(
                (int) info[0] == 0,
                () -> "no Docker engine here: `docker info` gave " + info[0] + ": " + info[1]);
        try (var jars = Files.list(ROOT.resolve("jobs/target"))) {
            assertThat(jars.anyMatch(j -> j.getFileName().toString().endsWith("-job.jar")))
                    .as("the job jar (mvn package) before the image")
                    .isTrue();
        }
        Object[] build =
                run(
                        List.of(
                                "docker",
                                "build",
                                "-f",
                                "deploy/docker/Dockerfile",
                                "-t",
                                "canaryflow:it",
                                "."),
                        1_200);
        assertThat((int) build[0]).as("docker build:%n%s", build[1]).isZero();
        Object[] user =
                run(
                        List.of(
                                "docker",
                                "run",
                                "--rm",
                                "--entrypoint",
                                "sh",
                                "canaryflow:it",
                                "-c",
                                "id -un && test -r /opt/flink/usrlib/canaryflow.jar"
                                        + " && test -w /checkpoints && echo ok"),
                        120);
        assertThat((int) user[0]).as("docker run:%n%s", user[1]).isZero();
        assertThat(((String) user[1]).lines().toList()).containsExactly("flink", "ok");
    }
}
