package io.canaryflow.modelloader;

/**
 * A model version cannot be loaded. The message names the file and what is wrong with it; the
 * version stays unloadable and traffic stays where it was.
 */
public class ModelLoadException extends Exception {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
