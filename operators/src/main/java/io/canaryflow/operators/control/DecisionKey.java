package io.canaryflow.operators.control;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * An Ed25519 public key (RFC 8032) that verifies the job's decisions, and its key id: the first 16
 * hex digits of SHA-256 over the key's 32 raw bytes. A decision's signature covers the bytes {@code
 * canaryflow-decision-v1} LF followed by the record's value exactly as written to Kafka (see
 * docs/wire-formats.md). Read from a PEM file of type {@code PUBLIC KEY} (SubjectPublicKeyInfo,
 * what {@code openssl pkey -pubout} and {@code bin/control keygen} write).
 */
public final class DecisionKey implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What a signature covers before the record's value. */
    static final byte[] CONTEXT = "canaryflow-decision-v1\n".getBytes(StandardCharsets.US_ASCII);

    /** The DER of an Ed25519 SubjectPublicKeyInfo up to its 32 key bytes (RFC 8410). */
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

    private final byte[] raw;
    private final String id;
    private transient PublicKey key;

    private DecisionKey(byte[] raw) {
        if (raw.length != 32) {
            throw new IllegalArgumentException(
                    "an Ed25519 public key has 32 bytes, got " + raw.length);
        }
        this.raw = raw.clone();
        this.id = idOf(this.raw);
    }

    /** The key of 32 raw bytes. */
    public static DecisionKey ofRaw(byte[] raw) {
        return new DecisionKey(raw);
    }

    /**
     * The key of a PEM {@code PUBLIC KEY}.
     *
     * @param source names where the text came from, for errors
     */
    public static DecisionKey fromPem(String pem, String source) {
        byte[] der = Pem.decode(pem, "PUBLIC KEY", source);
        try {
            return of(
                    KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(der)));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    source + ": not an Ed25519 public key (" + e.getMessage() + ")", e);
        }
    }

    /** The key of a JDK Ed25519 public key. */
    static DecisionKey of(PublicKey key) {
        byte[] encoded = key.getEncoded(); // SubjectPublicKeyInfo: the prefix, then the key
        return new DecisionKey(Arrays.copyOfRange(encoded, SPKI_PREFIX.length, encoded.length));
    }

    /** The key in {@code file} (a PEM {@code PUBLIC KEY}); errors name the file. */
    public static DecisionKey read(Path file) {
        try {
            return fromPem(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read public key file '" + file + "'", e);
        }
    }

    static String idOf(byte[] raw) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(raw);
            return HexFormat.of().formatHex(h, 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** The key id: 16 lower-case hex digits. */
    public String id() {
        return id;
    }

    /** The 32 raw key bytes. */
    public byte[] raw() {
        return raw.clone();
    }

    /** The key as a PEM {@code PUBLIC KEY}. */
    public String toPem() {
        return Pem.encode(spki(), "PUBLIC KEY");
    }

    /** The key's DER SubjectPublicKeyInfo. */
    private byte[] spki() {
        byte[] der = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + raw.length);
        System.arraycopy(raw, 0, der, SPKI_PREFIX.length, raw.length);
        return der;
    }

    /** Whether {@code signature} is this key's over {@code value} (with the context prefix). */
    public boolean verifies(byte[] value, byte[] signature) {
        if (signature == null || signature.length != 64) {
            return false;
        }
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(publicKey());
            s.update(CONTEXT);
            s.update(value == null ? new byte[0] : value);
            return s.verify(signature);
        } catch (java.security.SignatureException e) {
            return false; // not a well-formed signature
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is not available", e);
        }
    }

    private PublicKey publicKey() throws GeneralSecurityException {
        if (key == null) {
            key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki()));
        }
        return key;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DecisionKey k && Arrays.equals(raw, k.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
        return "Ed25519 key " + id;
    }

    /** PEM (RFC 7468) text of one DER object. */
    static final class Pem {
        private Pem() {}

        static byte[] decode(String pem, String type, String source) {
            String begin = "-----BEGIN " + type + "-----";
            String end = "-----END " + type + "-----";
            int from = pem == null ? -1 : pem.indexOf(begin);
            int to = from < 0 ? -1 : pem.indexOf(end, from);
            if (from < 0 || to < 0) {
                throw new IllegalArgumentException(
                        source + ": expected a PEM block '" + begin + "' ... '" + end + "'");
            }
            String body = pem.substring(from + begin.length(), to).replaceAll("\\s", "");
            try {
                return Base64.getDecoder().decode(body);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        source + ": the PEM block is not valid base64", e);
            }
        }

        static String encode(byte[] der, String type) {
            return "-----BEGIN "
                    + type
                    + "-----\n"
                    + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                    + "\n-----END "
                    + type
                    + "-----\n";
        }
    }
}
