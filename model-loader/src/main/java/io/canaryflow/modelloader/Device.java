package io.canaryflow.modelloader;

import java.util.Arrays;
import java.util.Locale;

/** Where a session runs: {@code auto} tries CUDA and falls back to CPU, the others insist. */
public enum Device {
    AUTO,
    CUDA,
    CPU;

    /** Parses {@code auto|cuda|cpu}, case-insensitive; the message lists the allowed values. */
    public static Device parse(String value) {
        for (Device d : values()) {
            if (d.name().equalsIgnoreCase(value == null ? "" : value.trim())) {
                return d;
            }
        }
        throw new IllegalArgumentException(
                String.format(
                        "unknown device '%s', allowed: %s",
                        value, Arrays.toString(values()).toLowerCase(Locale.ROOT)));
    }
}
