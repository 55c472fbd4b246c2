package io.canaryflow.modelloader.tools;

import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Command-line tooling for model repositories.
 *
 * <pre>
 * generate-demo --out DIR [--seed N] [--train-rows N] [--reference-rows N]
 * manifest --model FILE --reference CSV --name MODEL --version VERSION
 *          [--label-column NAME] [--score-column K] [--kind classifier|regressor] [--bins K]
 *          [--out MANIFEST_JSON]
 * </pre>
 */
@Command(
        name = "model-tool",
        mixinStandardHelpOptions = true,
        versionProvider = io.canaryflow.modelloader.tools.Version.class,
        description = "Model repository tooling: generate the demo models, or build a manifest.",
        subcommands = {ModelTool.GenerateDemo.class, ModelTool.BuildManifest.class})
public final class ModelTool implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "a command is required: generate-demo or manifest");
    }

    public static void main(String[] args) {
        CommandLine cl = new CommandLine(new ModelTool());
        cl.setParameterExceptionHandler(UsageErrors::handle);
        cl.setExecutionExceptionHandler(
                (e, line, parsed) -> {
                    line.getErr()
                            .println(
                                    "model-tool: "
                                            + (e instanceof java.nio.file.NoSuchFileException f
                                                    ? "no such file: " + f.getFile()
                                                    : e.getMessage()));
                    return 1;
                });
        System.exit(cl.execute(args));
    }

    @Command(
            name = "generate-demo",
            mixinStandardHelpOptions = true,
            versionProvider = io.canaryflow.modelloader.tools.Version.class,
            description =
                    "Train the demo's fraud models (v1, v2, v3-bad) and write them with manifests.")
    static final class GenerateDemo implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR", description = "Repository.")
        Path out;

        @Option(
                names = "--seed",
                defaultValue = "7",
                description = "Seed (default: ${DEFAULT-VALUE}).")
        long seed;

        @Option(
                names = "--train-rows",
                defaultValue = "40000",
                description = "Training rows (default: ${DEFAULT-VALUE}).")
        int trainRows;

        @Option(
                names = "--reference-rows",
                defaultValue = "10000",
                description = "Reference rows of each manifest (default: ${DEFAULT-VALUE}).")
        int referenceRows;

        @Override
        public Integer call() throws Exception {
            for (Manifest m : DemoModels.generate(out, seed, trainRows, referenceRows)) {
                System.out.printf(
                        "%s/%s  auc=%.4f  log_loss=%.4f%n",
                        m.model(),
                        m.version(),
                        m.metrics().get("auc"),
                        m.metrics().get("log_loss"));
            }
            return 0;
        }
    }

    @Command(
            name = "manifest",
            description = "Build the manifest of a model file from a reference CSV.")
    static final class BuildManifest implements Callable<Integer> {
        // --version is the model's here, so only --help of the standard options
        @Option(
                names = {"-h", "--help"},
                usageHelp = true,
                description = "Show this help message and exit.")
        boolean help;

        @Option(names = "--model", required = true, paramLabel = "FILE", description = "ONNX file.")
        Path model;

        @Option(
                names = "--reference",
                required = true,
                paramLabel = "CSV",
                description = "Reference rows (features, and the label column if any).")
        Path reference;

        @Option(names = "--name", required = true, description = "Model name.")
        String name;

        @Option(names = "--version", required = true, description = "Model version.")
        String version;

        @Option(names = "--label-column", description = "The reference's label column.")
        String labelColumn;

        @Option(
                names = "--score-column",
                defaultValue = "0",
                description = "Output column that is the score (default: ${DEFAULT-VALUE}).")
        int scoreColumn;

        @Option(
                names = "--kind",
                defaultValue = "classifier",
                description = "classifier or regressor (default: ${DEFAULT-VALUE}).")
        String kind;

        @Option(names = "--bins", description = "Reference bins per feature.")
        Integer bins;

        @Option(
                names = "--out",
                paramLabel = "MANIFEST_JSON",
                description = "Where to write it (default: manifest.json beside the model).")
        Path out;

        @Override
        public Integer call() throws Exception {
            Manifest manifest =
                    ManifestBuilder.build(
                            Files.readAllBytes(model),
                            new ModelVersion(name, version),
                            ReferenceData.readCsv(reference, labelColumn),
                            scoreColumn,
                            kind,
                            bins == null ? ManifestBuilder.DEFAULT_BINS : bins,
                            Instant.now());
            Path target =
                    out != null
                            ? out
                            : model.toAbsolutePath().resolveSibling(ModelRepository.MANIFEST_FILE);
            Files.write(target, ModelRepository.manifestJson(manifest));
            System.out.println("wrote " + target);
            return 0;
        }
    }
}
