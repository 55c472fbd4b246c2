package io.canaryflow.modelloader;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * The model repository: {@code <root>/<model>/<version>/model.onnx} plus {@code manifest.json}. The
 * root is a local path or any Flink {@code FileSystem} URI ({@code s3://bucket/models}).
 *
 * <p>Serializable by its URI, so an operator can carry it to the TaskManagers.
 */
public final class ModelRepository implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final String MODEL_FILE = "model.onnx";
    public static final String MANIFEST_FILE = "manifest.json";

    static final ObjectMapper JSON =
            new ObjectMapper()
                    .enable(SerializationFeature.INDENT_OUTPUT)
                    .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final String uri;
    private transient RepositoryStore store;

    private ModelRepository(String uri) {
        this.uri = uri;
    }

    /** A repository at a local path or a URI; nothing is read until asked. */
    public static ModelRepository at(String uri) {
        if (uri == null || uri.isBlank()) {
            throw new IllegalArgumentException("model repository location is empty");
        }
        return new ModelRepository(uri.trim());
    }

    public String uri() {
        return uri;
    }

    private RepositoryStore store() {
        if (store == null) {
            URI parsed = schemeOf(uri);
            store =
                    parsed == null
                            ? new LocalStore(Path.of(uri))
                            : "file".equals(parsed.getScheme())
                                    ? new LocalStore(Path.of(parsed))
                                    : new FlinkFileSystemStore(parsed);
        }
        return store;
    }

    private static URI schemeOf(String location) {
        int colon = location.indexOf("://");
        if (colon <= 1) {
            return null; // a plain path (also keeps Windows drive letters out of scheme parsing)
        }
        return URI.create(location);
    }

    /** Model versions present under {@code model}, sorted by name. */
    public List<String> versions(String model) throws IOException {
        return store().listDirectories(model);
    }

    /** Reads and parses a manifest without reading the model file. */
    public Manifest readManifest(ModelVersion id) throws ModelLoadException {
        String path = id.model() + "/" + id.version() + "/" + MANIFEST_FILE;
        byte[] bytes;
        try {
            bytes = store().read(path);
        } catch (IOException e) {
            throw new ModelLoadException(
                    String.format("cannot read manifest %s: %s", store().describe(path), e), e);
        }
        Manifest manifest;
        try {
            manifest = JSON.readValue(bytes, Manifest.class);
        } catch (IOException e) {
            throw new ModelLoadException(
                    String.format(
                            "manifest %s is not valid: %s", store().describe(path), e.getMessage()),
                    e);
        }
        if (!manifest.model().equals(id.model()) || !manifest.version().equals(id.version())) {
            throw new ModelLoadException(
                    String.format(
                            "manifest %s describes %s/%s, not %s",
                            store().describe(path), manifest.model(), manifest.version(), id));
        }
        return manifest;
    }

    /**
     * Reads a version's manifest and model file and checks the file's SHA-256 against the manifest.
     * Does not open a session: see {@link ModelSession#open}.
     */
    public ModelArtifact read(ModelVersion id) throws ModelLoadException {
        Manifest manifest = readManifest(id);
        String path = id.model() + "/" + id.version() + "/" + MODEL_FILE;
        byte[] bytes;
        try {
            bytes = store().read(path);
        } catch (IOException e) {
            throw new ModelLoadException(
                    String.format("cannot read model file %s: %s", store().describe(path), e), e);
        }
        String actual = Checksums.sha256Hex(bytes);
        if (!actual.equalsIgnoreCase(manifest.sha256())) {
            throw new ModelLoadException(
                    String.format(
                            "checksum mismatch for %s: manifest says sha256 %s, file has %s",
                            store().describe(path), manifest.sha256(), actual));
        }
        return new ModelArtifact(id, manifest, bytes, store().describe(path));
    }

    /** Writes a manifest as JSON, as {@link #readManifest} expects it. */
    public static byte[] manifestJson(Manifest manifest) {
        try {
            return JSON.writeValueAsBytes(manifest);
        } catch (IOException e) {
            throw new IllegalStateException("manifest cannot be serialized", e);
        }
    }

    @Override
    public String toString() {
        return "ModelRepository{" + uri + "}";
    }
}
