package io.canaryflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The alert rules: valid and unit-tested by Prometheus' own {@code promtool} (CI installs it and
 * sets {@code CANARYFLOW_REQUIRE_PROMTOOL=true}; elsewhere the test is skipped without it), every
 * alert tested firing at least once, and every alert linked to its section of the runbook.
 */
class AlertRulesTest {
    static final Path PROMETHEUS = Path.of("..", "deploy", "prometheus");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static List<JsonNode> alerts() throws Exception {
        List<JsonNode> alerts = new ArrayList<>();
        for (JsonNode group :
                YAML.readTree(PROMETHEUS.resolve("alerts.yaml").toFile()).get("groups")) {
            group.get("rules").forEach(alerts::add);
        }
        return alerts;
    }

    static String promtool(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("promtool"));
        command.addAll(List.of(args));
        Process p;
        try {
            p =
                    new ProcessBuilder(command)
                            .directory(PROMETHEUS.toFile())
                            .redirectErrorStream(true)
                            .start();
        } catch (java.io.IOException e) {
            boolean required = Boolean.parseBoolean(System.getenv("CANARYFLOW_REQUIRE_PROMTOOL"));
            if (required) {
                throw new AssertionError("promtool is required here but cannot be run", e);
            }
            Assumptions.abort("promtool is not installed (apt-get install prometheus)");
            return "";
        }
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as("promtool %s:%n%s", args, output).isZero();
        return output;
    }

    @Test
    void shouldBeValidRulesThatPassTheirUnitTests() throws Exception {
        assertThat(promtool("check", "rules", "alerts.yaml")).contains("SUCCESS");
        assertThat(promtool("test", "rules", "alerts.test.yaml")).contains("SUCCESS");
    }

    @Test
    void shouldTestEveryAlertFiring() throws Exception {
        Set<String> firing = new HashSet<>();
        for (JsonNode test :
                YAML.readTree(PROMETHEUS.resolve("alerts.test.yaml").toFile()).get("tests")) {
            for (JsonNode t : test.get("alert_rule_test")) {
                if (!t.get("exp_alerts").isEmpty()) {
                    firing.add(t.get("alertname").asText());
                }
            }
        }
        assertThat(alerts()).isNotEmpty();
        for (JsonNode alert : alerts()) {
            assertThat(firing).as("a test where it fires").contains(alert.get("alert").asText());
        }
    }

    @Test
    void shouldLinkEveryAlertToItsRunbookSection() throws Exception {
        Set<String> anchors = new HashSet<>();
        for (String line : Files.readAllLines(Path.of("..", "docs", "runbook.md"))) {
            if (line.startsWith("#")) {
                anchors.add(
                        line.replaceFirst("^#+\\s*", "")
                                .toLowerCase(Locale.ROOT)
                                .replaceAll("[^a-z0-9 -]", "")
                                .replace(' ', '-'));
            }
        }
        for (JsonNode alert : alerts()) {
            String name = alert.get("alert").asText();
            String url = alert.get("annotations").get("runbook_url").asText();
            assertThat(url).endsWith("docs/runbook.md#" + name.toLowerCase(Locale.ROOT));
            assertThat(anchors)
                    .as("runbook section of %s", name)
                    .contains(name.toLowerCase(Locale.ROOT));
        }
    }
}
