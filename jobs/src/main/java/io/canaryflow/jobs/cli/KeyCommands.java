package io.canaryflow.jobs.cli;

import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.operators.control.DecisionSigner;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** The keys of decisions: make a pair ({@code keygen}), show the job's public key. */
public final class KeyCommands {
    private KeyCommands() {}

    @CommandLine.Command(
            name = "keygen",
            mixinStandardHelpOptions = true,
            versionProvider = io.canaryflow.modelloader.tools.Version.class,
            description =
                    "Make an Ed25519 key pair for signing decisions: the private key for the job"
                            + " (control.signing-key-file or CANARYFLOW_SIGNING_KEY), the public"
                            + " key for every consumer (--public-key).")
    public static final class Keygen implements Callable<Integer> {
        @Spec CommandSpec spec;

        @Option(
                names = "--private-key",
                required = true,
                paramLabel = "FILE",
                description = "Where to write the private key (PEM, PKCS#8; owner-only).")
        Path privateKey;

        @Option(
                names = "--public-key",
                required = true,
                paramLabel = "FILE",
                description = "Where to write the public key (PEM).")
        Path publicKey;

        @Override
        public Integer call() throws IOException {
            for (Path p : new Path[] {privateKey, publicKey}) {
                if (Files.exists(p)) {
                    throw new IllegalArgumentException(
                            "'" + p + "' exists; keygen never overwrites a key");
                }
            }
            DecisionSigner signer = DecisionSigner.generate();
            writeOwnerOnly(privateKey, signer.toPem());
            Files.writeString(publicKey, signer.key().toPem(), StandardCharsets.US_ASCII);
            PrintWriter out = spec.commandLine().getOut();
            out.printf(
                    "key id %s%nprivate key: %s (the job: control.signing-key-file, or its text in"
                            + " CANARYFLOW_SIGNING_KEY)%npublic key:  %s (consumers: --public-key)%n",
                    signer.key().id(), privateKey, publicKey);
            return 0;
        }

        /** Creates {@code file} readable by its owner alone (where the file system can say so). */
        public static void writeOwnerOnly(Path file, String text) throws IOException {
            try {
                Files.createFile(
                        file,
                        PosixFilePermissions.asFileAttribute(
                                PosixFilePermissions.fromString("rw-------")));
            } catch (UnsupportedOperationException e) {
                Files.createFile(file); // not a POSIX file system
            } catch (FileAlreadyExistsException e) {
                throw new IllegalArgumentException("'" + file + "' exists", e);
            }
            Files.writeString(file, text, StandardCharsets.US_ASCII);
        }
    }

    @CommandLine.Command(
            name = "public-key",
            mixinStandardHelpOptions = true,
            versionProvider = io.canaryflow.modelloader.tools.Version.class,
            description =
                    "Print the public key of the job's decisions (PEM) and its key id, from the"
                            + " private key as the job finds it: --signing-key-file, else"
                            + " CANARYFLOW_SIGNING_KEY, else derived from the control key"
                            + " (CANARYFLOW_CONTROL_KEY or --key-file).")
    static final class PublicKey implements Callable<Integer> {
        @ParentCommand ControlTool parent;
        @Spec CommandSpec spec;

        @Option(
                names = "--signing-key-file",
                paramLabel = "FILE",
                description = "The job's private key (PEM, PKCS#8).")
        Path signingKeyFile;

        @Option(
                names = "--key-file",
                paramLabel = "FILE",
                description = "The control key, when the job derives its signing key from it.")
        Path controlKeyFile;

        @Override
        public Integer call() throws IOException {
            Map<String, String> env = parent.env;
            DecisionSigner signer;
            String from;
            if (signingKeyFile != null) {
                ControlTool.read(signingKeyFile, "--signing-key-file", "the decision signing key");
                signer = DecisionSigner.read(signingKeyFile);
                from = signingKeyFile.toString();
            } else if (env.get(JobConfig.SIGNING_KEY_ENV) != null
                    && !env.get(JobConfig.SIGNING_KEY_ENV).isBlank()) {
                signer =
                        DecisionSigner.fromPem(
                                env.get(JobConfig.SIGNING_KEY_ENV),
                                "environment variable " + JobConfig.SIGNING_KEY_ENV);
                from = JobConfig.SIGNING_KEY_ENV;
            } else {
                byte[] controlKey =
                        controlKeyFile != null
                                ? ControlTool.read(controlKeyFile, "--key-file", "the control key")
                                : env.getOrDefault("CANARYFLOW_CONTROL_KEY", "")
                                        .getBytes(StandardCharsets.UTF_8);
                if (controlKey.length == 0) {
                    throw new IllegalArgumentException(
                            "no key: pass --signing-key-file, or set "
                                    + JobConfig.SIGNING_KEY_ENV
                                    + " or CANARYFLOW_CONTROL_KEY");
                }
                signer = DecisionSigner.derivedFrom(controlKey);
                from = "derived from the control key";
            }
            PrintWriter out = spec.commandLine().getOut();
            out.print(signer.key().toPem());
            spec.commandLine().getErr().printf("key id %s (%s)%n", signer.key().id(), from);
            return 0;
        }
    }
}
