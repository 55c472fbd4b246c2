package io.canaryflow.modelloader.tools;

import io.canaryflow.modelloader.Manifest;
import io.canaryflow.modelloader.ModelLoadException;
import io.canaryflow.modelloader.ModelRepository;
import io.canaryflow.modelloader.ModelVersion;
import io.canaryflow.modelloader.synthetic.SyntheticFraud;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.ONNXExportable;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.fm.FMClassificationTrainer;
import org.tribuo.classification.sgd.linear.LinearSGDTrainer;
import org.tribuo.classification.sgd.objectives.LogMulticlass;
import org.tribuo.datasource.ListDataSource;
import org.tribuo.impl.ArrayExample;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.provenance.SimpleDataSourceProvenance;

/**
 * Generates the demo model repository: three real versions of model {@value #MODEL} trained with
 * Tribuo on {@link SyntheticFraud} data and exported to ONNX, each with a manifest built from a
 * held-out reference sample.
 *
 * <ul>
 *   <li>{@value #BASELINE}: logistic regression, a sound baseline;
 *   <li>{@value #GOOD_CANDIDATE}: factorization machine, which learns the {@code night x amount}
 *       interaction and so ranks better;
 *   <li>{@value #BAD_CANDIDATE}: logistic regression trained on flipped labels, deliberately bad.
 * </ul>
 */
public final class DemoModels {
    public static final String MODEL = "fraud";
    public static final String BASELINE = "v1";
    public static final String GOOD_CANDIDATE = "v2";
    public static final String BAD_CANDIDATE = "v3-bad";
    public static final String LABEL_COLUMN = "label";

    private static final String FRAUD = "fraud";
    private static final String LEGIT = "legit";

    // Tribuo logs every thousand SGD iterations; keep a strong reference so the level sticks.
    private static final java.util.logging.Logger TRIBUO_LOG =
            java.util.logging.Logger.getLogger("org.tribuo");

    static {
        TRIBUO_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private DemoModels() {}

    /** Writes the three versions under {@code repository}; returns their manifests. */
    public static List<Manifest> generate(
            Path repository, long seed, int trainRows, int referenceRowCount)
            throws IOException, ModelLoadException {
        SyntheticFraud data = new SyntheticFraud(seed);
        List<SyntheticFraud.Row> train = new ArrayList<>();
        for (int i = 0; i < trainRows; i++) {
            train.add(data.next());
        }
        List<double[]> referenceRows = new ArrayList<>();
        double[] referenceLabels = new double[referenceRowCount];
        for (int i = 0; i < referenceLabels.length; i++) {
            SyntheticFraud.Row row = data.next();
            referenceRows.add(row.features());
            referenceLabels[i] = row.fraud() ? 1 : 0;
        }
        ReferenceData reference =
                new ReferenceData(SyntheticFraud.FEATURES, referenceRows, referenceLabels);

        LogMulticlass objective = new LogMulticlass();
        List<Manifest> manifests = new ArrayList<>();
        manifests.add(
                write(
                        repository,
                        BASELINE,
                        new LinearSGDTrainer(objective, new AdaGrad(0.1, 0.1), 3, seed),
                        dataset(train, false),
                        reference));
        manifests.add(
                write(
                        repository,
                        GOOD_CANDIDATE,
                        new FMClassificationTrainer(
                                objective, new AdaGrad(0.1, 0.1), 10, seed, 4, 0.1),
                        dataset(train, false),
                        reference));
        manifests.add(
                write(
                        repository,
                        BAD_CANDIDATE,
                        new LinearSGDTrainer(objective, new AdaGrad(0.1, 0.1), 3, seed),
                        dataset(train, true),
                        reference));
        return manifests;
    }

    private static MutableDataset<Label> dataset(
            List<SyntheticFraud.Row> rows, boolean flipLabels) {
        LabelFactory factory = new LabelFactory();
        List<org.tribuo.Example<Label>> examples = new ArrayList<>(rows.size());
        String[] names = SyntheticFraud.FEATURES.toArray(String[]::new);
        for (SyntheticFraud.Row row : rows) {
            boolean fraud = row.fraud() != flipLabels;
            examples.add(
                    new ArrayExample<>(new Label(fraud ? FRAUD : LEGIT), names, row.features()));
        }
        return new MutableDataset<>(
                new ListDataSource<>(
                        examples,
                        factory,
                        new SimpleDataSourceProvenance("synthetic-fraud", factory)));
    }

    private static Manifest write(
            Path repository,
            String version,
            Trainer<Label> trainer,
            MutableDataset<Label> train,
            ReferenceData reference)
            throws IOException, ModelLoadException {
        Model<Label> model = trainer.train(train);
        ImmutableFeatureMap featureMap = model.getFeatureIDMap();
        List<String> order = new ArrayList<>();
        for (int i = 0; i < featureMap.size(); i++) {
            order.add(featureMap.get(i).getName());
        }
        if (!order.equals(reference.features())) {
            throw new IllegalStateException(
                    "Tribuo's input order " + order + " differs from " + reference.features());
        }
        Path dir = repository.resolve(MODEL).resolve(version);
        Files.createDirectories(dir);
        Path modelFile = dir.resolve(ModelRepository.MODEL_FILE);
        ((ONNXExportable) model).saveONNXModel("io.canaryflow", 1, modelFile);
        int scoreColumn = model.getOutputIDInfo().getID(new Label(FRAUD));
        Manifest manifest =
                ManifestBuilder.build(
                        Files.readAllBytes(modelFile),
                        new ModelVersion(MODEL, version),
                        reference,
                        scoreColumn,
                        "classifier",
                        ManifestBuilder.DEFAULT_BINS,
                        Instant.now());
        Files.write(
                dir.resolve(ModelRepository.MANIFEST_FILE), ModelRepository.manifestJson(manifest));
        return manifest;
    }
}
