package io.canaryflow.jobs.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.canaryflow.operators.control.Command;
import io.canaryflow.operators.control.CommandSigner;
import io.canaryflow.operators.control.ControlCodec;
import io.canaryflow.operators.control.DecisionKey;
import io.canaryflow.operators.control.DecisionSigner;
import io.canaryflow.operators.control.DecisionVerifier;
import io.canaryflow.operators.judge.Verdict;
import io.canaryflow.operators.routing.RolloutPlan;
import io.canaryflow.testing.Decisions;
import io.canaryflow.testing.KafkaTestCluster;
import io.canaryflow.testing.RecordingInterceptor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The control command-line tool against a real broker. */
class ControlToolITCase {
    static final String KEY = "cli-test-key-0123456789abcdef";
    static KafkaTestCluster kafka;

    @BeforeAll
    static void start() throws Exception {
        kafka = KafkaTestCluster.start();
        kafka.clients().createTopic("control", 1);
    }

    @AfterAll
    static void stop() throws Exception {
        kafka.close();
    }

    static String run(int expectedStatus, Map<String, String> env, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status =
                ControlTool.run(
                        args,
                        new PrintStream(out, true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8),
                        env);
        assertThat(status).as(err.toString(StandardCharsets.UTF_8)).isEqualTo(expectedStatus);
        return out.toString(StandardCharsets.UTF_8) + err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void shouldSendASignedCommandTailDecisionsAndReportStatus(@TempDir Path dir) throws Exception {
        String bootstrap = kafka.bootstrapServers();
        Path plan = dir.resolve("plan.json");
        Files.writeString(
                plan,
                "{\"experiment\":\"fraud\",\"model\":\"fraud\",\"mode\":\"canary\",\"salt\":\"s\",\"baseline\":\"v1\",\"candidate\":\"v2\",\"canary_percent\":1,\"plan_id\":\"fraud-new\"}");
        String sent =
                run(
                        0,
                        Map.of("CANARYFLOW_CONTROL_KEY", KEY),
                        "send",
                        "--bootstrap-servers",
                        bootstrap,
                        "--experiment",
                        "fraud",
                        "--action",
                        "set_plan",
                        "--plan",
                        plan.toString(),
                        "--issued-by",
                        "alice");
        assertThat(sent).startsWith("sent c-").contains("set_plan fraud");

        List<ConsumerRecord<byte[], byte[]>> records =
                kafka.clients()
                        .readCommitted("control", 1, Duration.ofSeconds(1), Duration.ofSeconds(30));
        Command c = ControlCodec.command(ControlCodec.tree(records.get(0).value()));
        assertThat(new CommandSigner(KEY.getBytes(StandardCharsets.UTF_8)).verifies(c)).isTrue();
        assertThat(c.issuedBy()).isEqualTo("alice");
        assertThat(c.plan()).contains("\"canary_percent\":1");

        // no key: a clear error, nothing sent
        assertThat(
                        run(
                                2,
                                Map.of(),
                                "send",
                                "--bootstrap-servers",
                                bootstrap,
                                "--experiment",
                                "fraud",
                                "--action",
                                "pause"))
                .contains("no signing key");

        kafka.clients()
                .produce(
                        "control",
                        List.<byte[][]>of(
                                new byte[][] {
                                    "fraud".getBytes(),
                                    Decisions.decision(
                                            "d-7",
                                            Verdict.Action.ADVANCE,
                                            false,
                                            Decisions.plan("p1", "v1", "v2", 1),
                                            Decisions.plan("p2", "v1", "v2", 5))
                                }));
        String tail =
                run(
                        0,
                        Map.of(),
                        "tail",
                        "--bootstrap-servers",
                        bootstrap,
                        "--from-beginning",
                        "--max-seconds",
                        "3");
        assertThat(tail)
                .contains("command  " + c.commandId() + " SET_PLAN fraud by alice")
                .contains("ADVANCE")
                .contains("1.0% ->   5.0%")
                .contains("- because");
        String status = run(0, Map.of(), "status", "--bootstrap-servers", bootstrap);
        assertThat(status)
                .contains("fraud        last ADVANCE")
                .contains("baseline v1, candidate v2 at 5.0%, plan p2");
        assertThat(run(2, Map.of(), "statsu", "--bootstrap-servers", bootstrap))
                .contains("'statsu'")
                .contains("Did you mean status")
                .contains("See 'control --help'");
        assertThat(run(2, Map.of(), "tail", "--bootstrap-servers", bootstrap, "--form-beginning"))
                .contains("Unknown option: '--form-beginning'")
                .contains("Did you mean --from-beginning?");
    }

    /**
     * Against a port nothing listens on, every Kafka command exits with 1 within 15 s, naming the
     * address it tried; {@code tail --max-seconds} and {@code --timeout} shorten the wait; a file
     * that cannot be read is named with what it was for.
     */
    @Test
    void shouldFailFastNamingTheAddressOfABrokerItCannotReach(@TempDir Path dir) throws Exception {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        String address = "127.0.0.1:" + port;
        Map<String, String> env = Map.of("CANARYFLOW_CONTROL_KEY", KEY);
        for (List<String> args :
                List.of(
                        List.of("tail", "--bootstrap-servers", address),
                        List.of("status", "--bootstrap-servers", address),
                        List.of(
                                "send",
                                "--bootstrap-servers",
                                address,
                                "--experiment",
                                "fraud",
                                "--action",
                                "pause"))) {
            long started = System.nanoTime();
            String output = run(1, env, args.toArray(String[]::new));
            double seconds = (System.nanoTime() - started) / 1e9;
            assertThat(output).contains("cannot reach Kafka at " + address + " within 10 s");
            assertThat(seconds).as("%s took %.1f s", args.get(0), seconds).isLessThan(15);
        }
        long started = System.nanoTime();
        assertThat(run(1, env, "tail", "--bootstrap-servers", address, "--max-seconds", "2"))
                .contains("cannot reach Kafka at " + address + " within 2 s");
        assertThat(run(1, env, "status", "--bootstrap-servers", address, "--timeout", "2"))
                .contains("within 2 s");
        assertThat((System.nanoTime() - started) / 1e9).isLessThan(12);
        // files are named with what they were for, before any connection
        assertThat(
                        run(
                                2,
                                Map.of(),
                                "send",
                                "--bootstrap-servers",
                                address,
                                "--experiment",
                                "fraud",
                                "--action",
                                "pause",
                                "--key-file",
                                dir.resolve("missing.key").toString()))
                .contains(
                        "--key-file: cannot read '"
                                + dir.resolve("missing.key")
                                + "' (the signing key)");
        assertThat(
                        run(
                                2,
                                env,
                                "send",
                                "--bootstrap-servers",
                                address,
                                "--experiment",
                                "fraud",
                                "--action",
                                "start",
                                "--plan",
                                dir.resolve("missing.json").toString()))
                .contains(
                        "--plan: cannot read '"
                                + dir.resolve("missing.json")
                                + "' (the rollout plan)");
        // a topic that does not exist is named, with the broker
        assertThat(
                        run(
                                2,
                                env,
                                "status",
                                "--bootstrap-servers",
                                kafka.bootstrapServers(),
                                "--topic",
                                "no-such-topic"))
                .contains("topic 'no-such-topic' does not exist at " + kafka.bootstrapServers());
    }

    @Test
    void shouldTakeTheClientPropertiesOfASecuredClusterFromACommandConfigFile(@TempDir Path dir)
            throws Exception {
        Path config = dir.resolve("client.properties");
        Files.writeString(
                config,
                "interceptor.classes=io.canaryflow.testing.RecordingInterceptor\n"
                        + "client.id=from-the-command-config\n"
                        // a timeout of its own, longer than --timeout: the file's wins
                        + "request.timeout.ms = 30000 \n");
        RecordingInterceptor.CLIENTS.clear();
        String bootstrap = kafka.bootstrapServers();
        kafka.clients().createTopic("control-secured", 1);
        run(
                0,
                Map.of("CANARYFLOW_CONTROL_KEY", KEY),
                "send",
                "--bootstrap-servers",
                bootstrap,
                "--command-config",
                config.toString(),
                "--topic",
                "control-secured",
                "--experiment",
                "fraud",
                "--action",
                "pause");
        run(
                0,
                Map.of(),
                "status",
                "--bootstrap-servers",
                bootstrap,
                "--topic",
                "control-secured",
                "--command-config",
                config.toString());
        String automation =
                run(
                        0,
                        Map.of(),
                        "automation",
                        "--bootstrap-servers",
                        bootstrap,
                        "--command-config",
                        config.toString(),
                        "--topic",
                        "control-secured",
                        "--group-id",
                        "secured-automation",
                        "--repository",
                        dir.resolve("repo").toString(),
                        "--health-port",
                        "0",
                        "--insecure-no-verify",
                        "--max-seconds",
                        "4");
        assertThat(automation)
                .contains("connected to Kafka at " + bootstrap)
                .contains("WARNING: --insecure-no-verify");
        // the producer of send, the consumers of status and automation
        assertThat(RecordingInterceptor.CLIENTS)
                .hasSizeGreaterThanOrEqualTo(3)
                .allSatisfy(
                        c -> assertThat(c.get("client.id")).isEqualTo("from-the-command-config"));
        assertThat(
                        run(
                                2,
                                Map.of(),
                                "status",
                                "--bootstrap-servers",
                                bootstrap,
                                "--command-config",
                                dir.resolve("missing.properties").toString()))
                .contains("--command-config: cannot read");
    }

    /**
     * Decisions a consumer can trust: keys made by {@code keygen}, and {@code tail}, {@code status}
     * and {@code automation} refusing what the trusted keys did not sign (forged, unsigned, a
     * rotated-out key) and replays of genuine decisions, each with its reason.
     */
    @Test
    void shouldRefuseForgedUnsignedRotatedOutAndReplayedDecisions(@TempDir Path dir)
            throws Exception {
        String bootstrap = kafka.bootstrapServers();
        String topic = "signed-control";
        kafka.clients().createTopic(topic, 1);
        Path privatePem = dir.resolve("decisions.pem");
        Path publicPem = dir.resolve("decisions.pub.pem");
        String made =
                run(
                        0,
                        Map.of(),
                        "keygen",
                        "--private-key",
                        privatePem.toString(),
                        "--public-key",
                        publicPem.toString());
        DecisionSigner job = DecisionSigner.read(privatePem);
        assertThat(made).contains("key id " + job.key().id());
        assertThat(Files.getPosixFilePermissions(privatePem))
                .containsExactlyInAnyOrder(
                        java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        assertThat(DecisionKey.read(publicPem)).isEqualTo(job.key());
        assertThat(
                        run(
                                2,
                                Map.of(),
                                "keygen",
                                "--private-key",
                                privatePem.toString(),
                                "--public-key",
                                dir.resolve("other.pem").toString()))
                .contains("never overwrites");
        assertThat(run(0, Map.of(), "public-key", "--signing-key-file", privatePem.toString()))
                .startsWith(Files.readString(publicPem))
                .contains("key id " + job.key().id());
        // a job without a signing key of its own derives one from the control key
        assertThat(run(0, Map.of("CANARYFLOW_CONTROL_KEY", KEY), "public-key"))
                .startsWith(DecisionSigner.derivedFrom(KEY.getBytes()).key().toPem())
                .contains("derived from the control key");

        long t = 1_800_000_000_000L;
        long hour = 3_600_000;
        DecisionSigner previous = DecisionSigner.generate();
        DecisionSigner mallory = DecisionSigner.generate();
        byte[] advance =
                Decisions.decision(
                        "d-advance",
                        Verdict.Action.ADVANCE,
                        false,
                        Decisions.plan("p1", "v1", "v2", 1),
                        Decisions.plan("p2", "v1", "v2", 50),
                        t);
        byte[] promote =
                Decisions.decision(
                        "d-promote",
                        Verdict.Action.PROMOTE,
                        false,
                        Decisions.plan("p2", "v1", "v2", 50),
                        Decisions.plan("p3", "v2", "v2", 0),
                        t + hour);
        RolloutPlan bad = Decisions.plan("p-bad", "v3-bad", "v3-bad", 0);
        kafka.clients()
                .send(
                        List.of(
                                record(topic, advance, job),
                                record(topic, promote, job),
                                // a forged promotion of a bad version: Mallory's own key ...
                                record(topic, decision("d-forged", bad, t + 2 * hour), mallory),
                                // ... Mallory's signature under the job's key id
                                withHeaders(
                                        topic,
                                        decision("d-forged-2", bad, t + 2 * hour),
                                        job.key().id(),
                                        mallory.sign(decision("d-forged-2", bad, t + 2 * hour))),
                                // ... no signature at all
                                new ProducerRecord<>(
                                        topic,
                                        "fraud".getBytes(),
                                        decision("d-unsigned", bad, t + 2 * hour)),
                                // the job's previous key, rotated out
                                record(topic, decision("d-previous", bad, t + 2 * hour), previous),
                                // genuine decisions written again
                                record(topic, promote, job),
                                record(topic, advance, job)));

        String tail =
                run(
                        0,
                        Map.of(),
                        "tail",
                        "--bootstrap-servers",
                        bootstrap,
                        "--topic",
                        topic,
                        "--from-beginning",
                        "--public-key",
                        publicPem.toString(),
                        "--max-seconds",
                        "4");
        assertThat(tail.split("\\(d-advance\\)", -1)).hasSize(2); // printed once
        assertThat(tail)
                .contains("refused decision d-forged ", "UNTRUSTED_KEY", mallory.key().id())
                .contains("refused decision d-forged-2 ", "BAD_SIGNATURE")
                .contains("refused decision d-unsigned ", "UNSIGNED")
                .contains("refused decision d-previous ", previous.key().id())
                .contains("refused decision d-promote ", "REPLAYED", "acted on before")
                .contains("refused decision d-advance ")
                .contains("refused 6 decisions");
        assertThat(tail).doesNotContain("(d-forged)").contains("(d-promote)");

        String status =
                run(
                        0,
                        Map.of(),
                        "status",
                        "--bootstrap-servers",
                        bootstrap,
                        "--topic",
                        topic,
                        "--public-key",
                        publicPem.toString());
        assertThat(status).contains("fraud        last PROMOTE").contains("plan p3");

        // the automation: --public-key is required
        assertThat(
                        run(
                                2,
                                Map.of(),
                                "automation",
                                "--bootstrap-servers",
                                bootstrap,
                                "--repository",
                                dir.resolve("repo").toString()))
                .contains("--public-key FILE is required");
        Path repo = dir.resolve("repo");
        String automation = automation(bootstrap, topic, repo, "a1", publicPem);
        JsonNode aliases = new ObjectMapper().readTree(repo.resolve("fraud/aliases.json").toFile());
        assertThat(aliases.get("production").asText())
                .isEqualTo("v2"); // the forgeries moved nothing
        assertThat(aliases.get("applied_decisions")).hasSize(1);
        assertThat(automation)
                .contains("decisions must be signed by key " + job.key().id())
                .contains("refused decision d-forged ", "refused decision d-forged-2 ")
                .contains("refused decision d-unsigned ", "refused decision d-previous ")
                .contains("refused decision d-promote ", "REPLAYED")
                .contains("applied 1 decisions");

        // while keys rotate, the previous key is trusted too: its (bad) promotion now applies
        Path rotating = dir.resolve("rotating");
        Path previousPem = dir.resolve("previous.pub.pem");
        Files.writeString(previousPem, previous.key().toPem());
        automation(bootstrap, topic, rotating, "a2", publicPem, previousPem);
        assertThat(
                        new ObjectMapper()
                                .readTree(rotating.resolve("fraud/aliases.json").toFile())
                                .get("production")
                                .asText())
                .isEqualTo("v3-bad");
    }

    static String automation(
            String bootstrap, String topic, Path repo, String group, Path... keys) {
        List<String> args =
                new java.util.ArrayList<>(
                        List.of(
                                "automation",
                                "--bootstrap-servers",
                                bootstrap,
                                "--topic",
                                topic,
                                "--group-id",
                                group,
                                "--repository",
                                repo.toString(),
                                "--health-port",
                                "0",
                                "--max-seconds",
                                "10"));
        for (Path k : keys) {
            args.add("--public-key");
            args.add(k.toString());
        }
        return run(0, Map.of(), args.toArray(String[]::new));
    }

    static byte[] decision(String id, RolloutPlan after, long decidedAt) {
        return Decisions.decision(
                id,
                Verdict.Action.PROMOTE,
                false,
                Decisions.plan("p2", "v1", "v2", 50),
                after,
                decidedAt);
    }

    static ProducerRecord<byte[], byte[]> record(
            String topic, byte[] value, DecisionSigner signer) {
        return withHeaders(topic, value, signer.key().id(), signer.sign(value));
    }

    static ProducerRecord<byte[], byte[]> withHeaders(
            String topic, byte[] value, String keyId, byte[] signature) {
        ProducerRecord<byte[], byte[]> r =
                new ProducerRecord<>(topic, "fraud".getBytes(StandardCharsets.UTF_8), value);
        r.headers().add(DecisionVerifier.KEY_ID_HEADER, keyId.getBytes(StandardCharsets.US_ASCII));
        r.headers()
                .add(
                        DecisionVerifier.SIGNATURE_HEADER,
                        java.util.Base64.getEncoder().encode(signature));
        return r;
    }
}
