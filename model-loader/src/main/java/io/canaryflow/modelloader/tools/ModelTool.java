package io.canaryflow.modelloader.tools;

import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

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
public final class ModelTool {
    private static final String USAGE =
            String.join(
                    "\n",
                    "usage:",
                    "  generate-demo --out DIR [--seed N] [--train-rows N] [--reference-rows N]",
                    "  manifest --model FILE --reference CSV --name MODEL --version VERSION",
                    "           [--label-column NAME] [--score-column K] [--kind classifier|regressor]",
                    "           [--bins K] [--out MANIFEST_JSON]  (default: manifest.json beside the model)");

    private ModelTool() {}

    public static void main(String[] args) {
        try {
            run(args);
        } catch (java.nio.file.NoSuchFileException e) {
            System.err.println("error: no such file: " + e.getFile());
            System.exit(1);
        } catch (Exception e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println(USAGE);
            System.exit(2);
        }
        Map<String, String> options = parse(args);
        switch (args[0]) {
            case "generate-demo" -> {
                Path out = Path.of(required(options, "out"));
                for (Manifest m :
                        DemoModels.generate(
                                out,
                                Long.parseLong(options.getOrDefault("seed", "7")),
                                Integer.parseInt(options.getOrDefault("train-rows", "40000")),
                                Integer.parseInt(
                                        options.getOrDefault("reference-rows", "10000")))) {
                    System.out.printf(
                            "%s/%s  auc=%.4f  log_loss=%.4f%n",
                            m.model(),
                            m.version(),
                            m.metrics().get("auc"),
                            m.metrics().get("log_loss"));
                }
            }
            case "manifest" -> {
                Path model = Path.of(required(options, "model"));
                ReferenceData reference =
                        ReferenceData.readCsv(
                                Path.of(required(options, "reference")),
                                options.get("label-column"));
                Manifest manifest =
                        ManifestBuilder.build(
                                Files.readAllBytes(model),
                                new ModelVersion(
                                        required(options, "name"), required(options, "version")),
                                reference,
                                Integer.parseInt(options.getOrDefault("score-column", "0")),
                                options.getOrDefault("kind", "classifier"),
                                Integer.parseInt(
                                        options.getOrDefault(
                                                "bins",
                                                String.valueOf(ManifestBuilder.DEFAULT_BINS))),
                                Instant.now());
                Path out =
                        Path.of(
                                options.getOrDefault(
                                        "out",
                                        model.toAbsolutePath()
                                                .resolveSibling(ModelRepository.MANIFEST_FILE)
                                                .toString()));
                Files.write(out, ModelRepository.manifestJson(manifest));
                System.out.println("wrote " + out);
            }
            default -> {
                System.err.println("unknown command '" + args[0] + "'\n" + USAGE);
                System.exit(2);
            }
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException(
                        "expected '--option value' at '" + args[i] + "'\n" + USAGE);
            }
            options.put(args[i].substring(2), args[++i]);
        }
        return options;
    }

    private static String required(Map<String, String> options, String name) {
        String value = options.get(name);
        if (value == null) {
            throw new IllegalArgumentException("missing --" + name + "\n" + USAGE);
        }
        return value;
    }
}
