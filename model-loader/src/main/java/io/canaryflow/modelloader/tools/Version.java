package io.canaryflow.modelloader.tools;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine;

/** The project's version, as every command-line tool's {@code --version} reports it. */
public final class Version implements CommandLine.IVersionProvider {
    /** The build's version, from {@code io/canaryflow/version.properties}. */
    public static String of() {
        try (InputStream in =
                Version.class.getResourceAsStream("/io/canaryflow/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    @Override
    public String[] getVersion() {
        return new String[] {"Canaryflow " + of()};
    }
}
