package io.canaryflow.operators.routing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Assigns a unit to one of {@value #COUNT} buckets: {@code unsigned(first 8 bytes, big-endian, of
 * SHA-256(salt + "." + unit)) mod 10000}. Stable across JVMs, languages and restarts, so external
 * tools can reproduce any assignment. Not thread-safe (reuses its digest).
 */
public final class Buckets {
    public static final int COUNT = 10_000;

    private final MessageDigest sha256;

    public Buckets() {
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every JVM", e);
        }
    }

    /** The bucket of {@code unit} under {@code salt}, in {@code [0, 10000)}. */
    public int bucket(String salt, String unit) {
        sha256.reset();
        sha256.update(salt.getBytes(StandardCharsets.UTF_8));
        sha256.update((byte) '.');
        byte[] digest = sha256.digest(unit.getBytes(StandardCharsets.UTF_8));
        long high = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (digest[i] & 0xFF);
        }
        return (int) Long.remainderUnsigned(high, COUNT);
    }
}
