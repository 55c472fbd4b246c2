package io.canaryflow.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every {@code bin/control} command the runbook, the operations guide and the alerts give, with its
 * placeholders filled in, is one the tool accepts (every required option present, none unknown):
 * copied during an incident, it runs.
 */
class RunbookCommandsTest {
    static final Path ROOT = Path.of("..");

    static List<String> commands(String text) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile("bin/control (send|tail|status)([^`\"]*)").matcher(text);
        while (m.find()) {
            // the command's own words: its options and their values, up to the prose after it
            List<String> words = new ArrayList<>(List.of(m.group(1)));
            String[] rest = m.group(2).trim().split("\\s+");
            for (int i = 0; i < rest.length && rest[i].startsWith("--"); i++) {
                words.add(rest[i]);
                boolean flag = List.of("--from-beginning", "--json").contains(rest[i]);
                if (!flag && i + 1 < rest.length) {
                    words.add(rest[++i]);
                }
            }
            found.add(String.join(" ", words));
        }
        return found;
    }

    @Test
    void shouldGiveCommandsTheToolAccepts() throws Exception {
        List<String> commands = new ArrayList<>();
        for (String file :
                List.of("docs/runbook.md", "docs/operations.md", "deploy/prometheus/alerts.yaml")) {
            commands.addAll(
                    commands(
                            Files.readString(ROOT.resolve(file))
                                    .replace("{{ $labels.experiment }}", "<experiment>")));
        }
        assertThat(commands).hasSizeGreaterThanOrEqualTo(5);
        for (String command : commands) {
            String filled =
                    command.replace("$KAFKA", "kafka:9092")
                            .replace("{{ $labels.experiment }}", "fraud")
                            .replaceAll("<[^>]+>", "fraud")
                            .trim();
            String[] args = filled.split(" ");
            assertThatCode(() -> new CommandLine(new ControlTool(Map.of())).parseArgs(args))
                    .as(command)
                    .doesNotThrowAnyException();
        }
    }
}
