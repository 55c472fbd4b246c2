package io.canaryflow.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.config.JobOptions;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * What can be checked of the deployment files without a Docker engine or a Kubernetes cluster: they
 * parse, the FlinkDeployment is valid against the Flink Kubernetes Operator's CRD schema, and the
 * names one file gives another agree (topics, ports, paths, secrets, configurations).
 */
class DeploymentFilesTest {
    static final Path ROOT = Path.of("..");
    static final Path DOCKER = ROOT.resolve("deploy/docker");
    static final Path KUBERNETES = ROOT.resolve("deploy/kubernetes");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static JsonNode yaml(Path file) throws Exception {
        return YAML.readTree(file.toFile());
    }

    /** Every document of a multi-document YAML file. */
    static List<JsonNode> documents(Path file) throws Exception {
        List<JsonNode> docs = new ArrayList<>();
        try (YAMLParser parser = new YAMLFactory().createParser(file.toFile())) {
            YAML.readValues(parser, JsonNode.class).forEachRemaining(docs::add);
        }
        return docs;
    }

    static Map<String, String> properties(String text) {
        Map<String, String> p = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int colon = line.indexOf(": ");
            if (colon > 0 && !line.startsWith("#")) {
                p.put(line.substring(0, colon).trim(), line.substring(colon + 2).trim());
            }
        }
        return p;
    }

    /** A job configuration file as the job reads it, secrets given on the side. */
    static JobConfig job(Path file) throws Exception {
        return JobConfig.load(file, Map.of("control.key", "0123456789abcdef0123"));
    }

    @Test
    void shouldBuildTheImageOnTheFlinkVersionOfTheBuildWithFilesThatExist() throws Exception {
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        Matcher version = Pattern.compile("<flink.version>([^<]+)</flink.version>").matcher(pom);
        assertThat(version.find()).isTrue();
        assertThat(dockerfile).contains("FROM flink:" + version.group(1) + "-java17");
        Matcher copy = Pattern.compile("(?m)^COPY (\\S+) (\\S+)$").matcher(dockerfile);
        List<String> targets = new ArrayList<>();
        while (copy.find()) {
            String source = copy.group(1);
            targets.add(copy.group(2));
            if (source.contains("*")) {
                // the job jar, built by `mvn package`: the jobs module's shaded jar name
                assertThat(source).isEqualTo("jobs/target/canaryflow-jobs-*-job.jar");
                assertThat(Files.readString(ROOT.resolve("jobs/pom.xml")))
                        .contains("<shadedClassifierName>job</shadedClassifierName>");
            } else {
                assertThat(ROOT.resolve(source)).as("COPY source").exists();
            }
        }
        assertThat(targets).contains("/opt/flink/usrlib/canaryflow.jar");
        assertThat(dockerfile).contains("flink-s3-fs-hadoop");
    }

    /**
     * The user each RUN of the Dockerfile runs as, from the base image's last {@code USER}: the
     * official {@code flink:2.2.x-java17} image ends with {@code USER flink} (apache/flink-docker,
     * {@code 2.2/scala_2.12-java17-ubuntu/Dockerfile}), which owns {@code /opt/flink} alone ({@code
     * chown -R flink:flink .} in its working directory {@code $FLINK_HOME}). A command that writes
     * elsewhere as that user fails the build with "Permission denied"; so does any chown.
     */
    static List<String> writesOutsideTheUsersDirectories(String dockerfile) {
        String user = "flink"; // the base image's last USER
        List<String> writable = List.of("/opt/flink", "/tmp");
        List<String> problems = new ArrayList<>();
        String joined = dockerfile.replaceAll("\\\\\n", " ");
        for (String line : joined.split("\n")) {
            String l = line.trim();
            if (l.startsWith("USER ")) {
                user = l.substring(5).trim().split(":")[0];
            } else if (l.startsWith("RUN ") && !user.equals("root") && !user.equals("0")) {
                for (String command : l.substring(4).split("&&|;|\\|\\|")) {
                    List<String> words = List.of(command.trim().split("\\s+"));
                    if (words.isEmpty()) {
                        continue;
                    }
                    String verb = words.get(0);
                    if (verb.equals("chown")) {
                        problems.add(user + " cannot chown: " + command.trim());
                        continue;
                    }
                    if (!List.of("mkdir", "cp", "mv", "touch", "ln", "rm", "chmod", "tee")
                            .contains(verb)) {
                        continue;
                    }
                    // cp, mv, ln write their last argument; the others every path argument
                    List<String> paths =
                            words.subList(1, words.size()).stream()
                                    .filter(w -> w.startsWith("/"))
                                    .toList();
                    if (List.of("cp", "mv", "ln").contains(verb) && !paths.isEmpty()) {
                        paths = List.of(paths.get(paths.size() - 1));
                    }
                    for (String path : paths) {
                        if (writable.stream()
                                .noneMatch(d -> path.equals(d) || path.startsWith(d + "/"))) {
                            problems.add(user + " cannot write " + path + ": " + command.trim());
                        }
                    }
                }
            }
        }
        return problems;
    }

    @Test
    void shouldWriteOnlyWhereTheBuildsUserMay() throws Exception {
        assertThat(writesOutsideTheUsersDirectories(Files.readString(DOCKER.resolve("Dockerfile"))))
                .isEmpty();
        // the check finds what broke the build before: a directory made and chowned at the root
        assertThat(
                        writesOutsideTheUsersDirectories(
                                "FROM flink:2.2.1-java17\n"
                                        + "RUN mkdir -p /opt/flink/plugins/x \\\n"
                                        + "    && cp /opt/flink/opt/x.jar /opt/flink/plugins/x/\n"
                                        + "RUN mkdir -p /checkpoints /models && chown flink:flink /checkpoints /models\n"))
                .containsExactly(
                        "flink cannot write /checkpoints: mkdir -p /checkpoints /models",
                        "flink cannot write /models: mkdir -p /checkpoints /models",
                        "flink cannot chown: chown flink:flink /checkpoints /models");
        // and the image goes back to the flink user: Flink does not run as root
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        assertThat(dockerfile.substring(dockerfile.lastIndexOf("\nUSER ")))
                .startsWith("\nUSER flink");
    }

    @Test
    void shouldComposeServicesWhoseTopicsPortsAndPathsAgree() throws Exception {
        JsonNode compose = yaml(DOCKER.resolve("compose.yaml"));
        JsonNode services = compose.get("services");
        assertThat(iterable(services.fieldNames()))
                .contains(
                        "kafka",
                        "kafka-topics",
                        "jobmanager",
                        "taskmanager",
                        "producer",
                        "prometheus",
                        "grafana");
        // the job in application mode, with a configuration file that is mounted and valid
        JsonNode jm = services.get("jobmanager");
        List<String> command = strings(jm.get("command"));
        assertThat(command.get(0)).isEqualTo("standalone-job");
        assertThat(command)
                .containsSubsequence("--job-classname", "io.canaryflow.jobs.InferenceJob");
        String configPath = command.get(command.indexOf("--config-file") + 1);
        Path config = mounted(jm, configPath);
        JobConfig job = job(config);
        assertThat(job.get(JobOptions.PARALLELISM)).as("the cluster's parallelism").isNull();
        assertThat(job.get(JobOptions.BOOTSTRAP_SERVERS)).isEqualTo("kafka:9092");
        assertThat(job.get(JobOptions.CONTROL_ENABLED)).isTrue();
        // its models and checkpoints on the volumes the compose file mounts
        assertThat(volumeTargets(jm)).contains(job.get(JobOptions.MODEL_REPOSITORY));
        assertThat(job.get(JobOptions.CHECKPOINT_DIRECTORY)).startsWith("file:///checkpoints");
        assertThat(volumeTargets(services.get("taskmanager"))).contains("/models", "/checkpoints");
        // every topic the job reads or writes is created
        String topics = strings(services.get("kafka-topics").get("command")).get(0);
        for (var option :
                List.of(
                        JobOptions.FEATURES_TOPIC,
                        JobOptions.PREDICTIONS_TOPIC,
                        JobOptions.DEAD_LETTERS_TOPIC,
                        JobOptions.MONITORING_TOPIC,
                        JobOptions.LABELS_TOPIC,
                        JobOptions.CONTROL_TOPIC)) {
            assertThat(topics).contains(" " + job.get(option) + ":");
        }
        // the producer writes the job's topics, for its experiments
        List<String> producer = strings(services.get("producer").get("command"));
        assertThat(producer.get(producer.indexOf("--topic") + 1))
                .isEqualTo(job.get(JobOptions.FEATURES_TOPIC));
        assertThat(producer.get(producer.indexOf("--labels-topic") + 1))
                .isEqualTo(job.get(JobOptions.LABELS_TOPIC));
        Set<String> experiments = new TreeSet<>();
        job.plans().forEach(p -> experiments.add(p.experiment()));
        assertThat(
                        new TreeSet<>(
                                List.of(
                                        producer.get(producer.indexOf("--experiments") + 1)
                                                .split(","))))
                .isEqualTo(experiments);
        // Prometheus scrapes the reporter's port and loads the rules it is given
        Map<String, String> flink =
                properties(
                        compose.get("x-canaryflow")
                                .get("environment")
                                .get("FLINK_PROPERTIES")
                                .asText());
        assertThat(flink)
                .containsEntry("metrics.reporter.prom.filterLabelValueCharacters", "false");
        String port = flink.get("metrics.reporter.prom.port");
        JsonNode prometheus = yaml(DOCKER.resolve("prometheus.yml"));
        assertThat(
                        strings(
                                prometheus
                                        .get("scrape_configs")
                                        .get(0)
                                        .get("static_configs")
                                        .get(0)
                                        .get("targets")))
                .containsExactlyInAnyOrder("jobmanager:" + port, "taskmanager:" + port);
        String rules = prometheus.get("rule_files").get(0).asText();
        assertThat(mounted(services.get("prometheus"), rules).normalize())
                .isEqualTo(ROOT.resolve("deploy/prometheus/alerts.yaml").normalize());
        assertThat(mounted(services.get("prometheus"), "/etc/prometheus/prometheus.yml")).exists();
        // Grafana: its datasource, and the dashboard where its provider looks
        JsonNode grafana = services.get("grafana");
        Path provisioning = mounted(grafana, "/etc/grafana/provisioning");
        JsonNode provider =
                yaml(provisioning.resolve("dashboards/canaryflow.yaml")).get("providers").get(0);
        String dashboards = provider.get("options").get("path").asText();
        assertThat(mounted(grafana, dashboards + "/canaryflow.json").normalize())
                .isEqualTo(ROOT.resolve("deploy/grafana/canaryflow-dashboard.json").normalize());
        assertThat(
                        yaml(provisioning.resolve("datasources/prometheus.yaml"))
                                .get("datasources")
                                .get(0)
                                .get("url")
                                .asText())
                .isEqualTo("http://prometheus:9090");
        // a named volume starts with the ownership of the image's directory: Flink runs as flink
        String dockerfile = Files.readString(DOCKER.resolve("Dockerfile"));
        for (String v : strings(jm.get("volumes"))) {
            if (!v.startsWith(".")) {
                String target = v.split(":")[1];
                assertThat(dockerfile)
                        .as("the image creates %s for the flink user", target)
                        .containsPattern("mkdir -p[^\\n]*" + target + "[^\\n]*chown flink:flink");
            }
        }
        // every bind mount's source exists
        services.fields()
                .forEachRemaining(
                        s -> {
                            for (String v : strings(s.getValue().get("volumes"))) {
                                String source = v.split(":")[0];
                                // ./models: generated by bin/model-tool before compose starts
                                if (source.startsWith(".") && !source.equals("./models")) {
                                    assertThat(DOCKER.resolve(source)).as(v).exists();
                                }
                            }
                        });
    }

    @Test
    void shouldValidateTheFlinkDeploymentAgainstTheOperatorsCrdSchema() throws Exception {
        JsonNode deployment = yaml(KUBERNETES.resolve("flinkdeployment.yaml"));
        List<String> errors = crdErrors(deployment);
        assertThat(errors).isEmpty();
        // and the schema does check: a wrong field type and an unknown upgrade mode are errors
        ObjectNode broken = deployment.deepCopy();
        ((ObjectNode) broken.get("spec").get("job")).put("upgradeMode", "sometimes");
        ((ObjectNode) broken.get("spec").get("job")).put("parallelism", "four");
        assertThat(crdErrors(broken)).hasSizeGreaterThanOrEqualTo(2);
    }

    /**
     * Errors of a FlinkDeployment against the CRD's openAPIV3Schema. Maven Central serves the
     * operator's API jar (which carries the CRD) at 1.10.0 here, not at 1.13; 1.10's schema is
     * 1.13's but for the Flink versions it names, so 1.13's v2_0 and v2_1 are added to its enum
     * (v2_1 came with 1.13, FLINK-38147; v2_2 with an operator after Flink 2.2).
     */
    static List<String> crdErrors(JsonNode deployment) throws Exception {
        JsonNode crd;
        try (InputStream in =
                DeploymentFilesTest.class.getResourceAsStream(
                        "/META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml")) {
            crd = YAML.readTree(in);
        }
        ObjectNode schema =
                (ObjectNode)
                        crd.get("spec").get("versions").get(0).get("schema").get("openAPIV3Schema");
        ArrayNode versions =
                (ArrayNode)
                        schema.get("properties")
                                .get("spec")
                                .get("properties")
                                .get("flinkVersion")
                                .get("enum");
        versions.add("v2_0");
        versions.add("v2_1");
        Schema validator =
                SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_4).getSchema(schema);
        List<String> errors = new ArrayList<>();
        validator.validate(deployment).forEach(e -> errors.add(e.toString()));
        return errors;
    }

    @Test
    void shouldMountAValidConfigurationAndTheSecretsAndPortsItNames() throws Exception {
        JsonNode deployment = yaml(KUBERNETES.resolve("flinkdeployment.yaml"));
        JsonNode spec = deployment.get("spec");
        Map<String, String> flink = new LinkedHashMap<>();
        spec.get("flinkConfiguration")
                .fields()
                .forEachRemaining(e -> flink.put(e.getKey(), e.getValue().asText()));
        assertThat(flink)
                .containsEntry("high-availability.type", "kubernetes")
                .containsKey("high-availability.storageDir")
                .containsEntry("metrics.reporter.prom.filterLabelValueCharacters", "false");
        assertThat(spec.get("job").get("upgradeMode").asText()).isEqualTo("savepoint");
        assertThat(spec.get("flinkVersion").asText()).isEqualTo("v2_1");
        JsonNode container = spec.get("podTemplate").get("spec").get("containers").get(0);
        assertThat(container.get("name").asText()).isEqualTo("flink-main-container");
        // the configuration: the ConfigMap's file, mounted where the job's args say
        List<String> args = strings(spec.get("job").get("args"));
        String path = args.get(args.indexOf("--config-file") + 1);
        String mountPath = container.get("volumeMounts").get(0).get("mountPath").asText();
        assertThat(path).startsWith(mountPath + "/");
        String volume = container.get("volumeMounts").get(0).get("name").asText();
        JsonNode configMapVolume = spec.get("podTemplate").get("spec").get("volumes").get(0);
        assertThat(configMapVolume.get("name").asText()).isEqualTo(volume);
        JsonNode configMap = yaml(KUBERNETES.resolve("configmap.yaml"));
        assertThat(configMap.get("metadata").get("name").asText())
                .isEqualTo(configMapVolume.get("configMap").get("name").asText());
        String file = path.substring(mountPath.length() + 1);
        Path extracted = Files.createTempFile("inference", ".yaml");
        Files.writeString(extracted, configMap.get("data").get(file).asText());
        JobConfig job = job(extracted);
        assertThat(job.get(JobOptions.PARALLELISM)).as("the deployment's parallelism").isNull();
        assertThat(job.kafkaProperties().getProperty("sasl.jaas.config"))
                .contains("${env:KAFKA_PASSWORD}");
        assertThat(job.kafkaProperties()).containsEntry("config.providers", "env");
        // every secret and key the container reads is in the example secrets
        Map<String, Set<String>> secrets = new LinkedHashMap<>();
        for (JsonNode s : documents(KUBERNETES.resolve("secrets.example.yaml"))) {
            secrets.put(
                    s.get("metadata").get("name").asText(),
                    new TreeSet<>(iterable(s.get("stringData").fieldNames())));
        }
        Set<String> env = new TreeSet<>();
        for (JsonNode e : container.get("env")) {
            env.add(e.get("name").asText());
            JsonNode ref = e.get("valueFrom").get("secretKeyRef");
            assertThat(secrets.get(ref.get("name").asText()))
                    .as(e.toString())
                    .contains(ref.get("key").asText());
        }
        assertThat(env)
                .contains(
                        "CANARYFLOW_CONTROL_KEY",
                        "CANARYFLOW_SIGNING_KEY",
                        "KAFKA_PASSWORD",
                        "AWS_ACCESS_KEY_ID",
                        "AWS_SECRET_ACCESS_KEY");
        // the PodMonitor scrapes the reporter's port, on the pods' label
        JsonNode monitor = yaml(KUBERNETES.resolve("podmonitor.yaml"));
        JsonNode port = container.get("ports").get(0);
        assertThat(port.get("containerPort").asText())
                .isEqualTo(flink.get("metrics.reporter.prom.port"));
        assertThat(monitor.get("spec").get("podMetricsEndpoints").get(0).get("port").asText())
                .isEqualTo(port.get("name").asText());
        assertThat(monitor.get("spec").get("selector").get("matchLabels"))
                .isEqualTo(spec.get("podTemplate").get("metadata").get("labels"));
        // kube-prometheus-stack's Prometheus selects PodMonitors by its release's label
        assertThat(monitor.get("metadata").get("labels").get("release").asText())
                .isEqualTo("kube-prometheus-stack");
        // the apply commands of the docs create every Secret and key the pods read, before the
        // deployment, and apply every manifest the deployment names
        String docs = Files.readString(ROOT.resolve("docs/deployment.md"));
        String commands = docs.substring(docs.indexOf("## Kubernetes"));
        commands = commands.substring(commands.indexOf("```bash"), commands.indexOf("```\n\n"));
        commands = commands.replaceAll("\\s*\\\\\n\\s*", " ");
        Map<String, Set<String>> created = new LinkedHashMap<>();
        Matcher secret =
                Pattern.compile(
                                "kubectl create secret generic (\\S+)((?: --from-(?:literal|file)=[^=]+=\\S+)+)")
                        .matcher(commands);
        while (secret.find()) {
            Set<String> keys = new TreeSet<>();
            Matcher key =
                    Pattern.compile("--from-(?:literal|file)=([^=]+)=").matcher(secret.group(2));
            while (key.find()) {
                keys.add(key.group(1));
            }
            created.put(secret.group(1), keys);
        }
        assertThat(created).isEqualTo(secrets);
        int lastSecret = commands.lastIndexOf("kubectl create secret");
        for (String manifest :
                List.of("configmap.yaml", "flinkdeployment.yaml", "podmonitor.yaml")) {
            int applied = commands.indexOf("kubectl apply -f deploy/kubernetes/" + manifest);
            assertThat(applied)
                    .as("applies %s after the secrets", manifest)
                    .isGreaterThan(lastSecret);
        }
        assertThat(commands.indexOf("configmap.yaml"))
                .isLessThan(commands.indexOf("flinkdeployment.yaml"));
    }

    /** The repository file a service mounts at {@code target} (a bind mount, or a file in it). */
    static Path mounted(JsonNode service, String target) {
        for (String v : strings(service.get("volumes"))) {
            String[] parts = v.split(":");
            if (!parts[0].startsWith(".")) {
                continue;
            }
            if (target.equals(parts[1])) {
                return DOCKER.resolve(parts[0]);
            }
            if (target.startsWith(parts[1] + "/")) {
                return DOCKER.resolve(parts[0]).resolve(target.substring(parts[1].length() + 1));
            }
        }
        throw new AssertionError(target + " is not mounted into " + service);
    }

    static List<String> volumeTargets(JsonNode service) {
        return strings(service.get("volumes")).stream().map(v -> v.split(":")[1]).toList();
    }

    static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        if (array != null) {
            array.forEach(n -> out.add(n.asText()));
        }
        return out;
    }

    static <T> List<T> iterable(java.util.Iterator<T> it) {
        List<T> out = new ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
