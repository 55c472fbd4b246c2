package io.canaryflow.operators.control;

import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs decisions with an Ed25519 private key (RFC 8032, the JDK's own implementation): the
 * signature covers {@code canaryflow-decision-v1} LF followed by the record's value bytes, and
 * travels in the record's headers with the key id ({@link DecisionVerifier}). Read from a PEM
 * {@code PRIVATE KEY} (PKCS#8, what {@code openssl genpkey -algorithm ed25519} and {@code
 * bin/control keygen} write), or derived from the control key when none is configured.
 */
public final class DecisionSigner implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The DER of an Ed25519 PKCS#8 private key up to its 32 seed bytes (RFC 8410). */
    private static final byte[] PKCS8_PREFIX =
            HexFormat.of().parseHex("302e020100300506032b657004220420");

    private static final byte[] DERIVATION =
            "canaryflow-decision-signing-key-v1".getBytes(StandardCharsets.US_ASCII);

    private final byte[] seed;
    private final DecisionKey key;

    private DecisionSigner(byte[] seed) {
        if (seed.length != 32) {
            throw new IllegalArgumentException(
                    "an Ed25519 private key has 32 bytes, got " + seed.length);
        }
        this.seed = seed.clone();
        this.key = publicKeyOf(this.seed);
        // the public key was derived through the JDK's generator: prove it verifies this key's
        // signatures, so a job never writes decisions its own key refuses
        byte[] probe = "canaryflow self-test".getBytes(StandardCharsets.US_ASCII);
        if (!key.verifies(probe, sign(probe))) {
            throw new IllegalStateException(
                    "the Ed25519 provider derived a public key that does not verify its signatures");
        }
    }

    /** The signer of a 32-byte private key (the RFC 8032 seed). */
    public static DecisionSigner ofSeed(byte[] seed) {
        return new DecisionSigner(seed);
    }

    /** A new random key. */
    public static DecisionSigner generate() {
        byte[] seed = new byte[32];
        new SecureRandom().nextBytes(seed);
        return new DecisionSigner(seed);
    }

    /**
     * The signer of a PEM {@code PRIVATE KEY}.
     *
     * @param source names where the text came from, for errors (never the key itself)
     */
    public static DecisionSigner fromPem(String pem, String source) {
        byte[] der = DecisionKey.Pem.decode(pem, "PRIVATE KEY", source);
        try {
            PrivateKey k =
                    KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(der));
            byte[] seed =
                    ((EdECPrivateKey) k)
                            .getBytes()
                            .orElseThrow(() -> new IllegalArgumentException("no key bytes"));
            return new DecisionSigner(seed);
        } catch (GeneralSecurityException | IllegalArgumentException | ClassCastException e) {
            throw new IllegalArgumentException(
                    source
                            + ": not an Ed25519 private key (PKCS#8 PEM, as `openssl genpkey"
                            + " -algorithm ed25519` writes): "
                            + e.getMessage(),
                    e);
        }
    }

    /** The signer of the key in {@code file}; errors name the file. */
    public static DecisionSigner read(Path file) {
        if (file.toString().contains("-----BEGIN")) {
            // never echo it: a key given where a path belongs
            throw new IllegalArgumentException(
                    "expected the path of a private key file, got what looks like a key itself");
        }
        try {
            return fromPem(Files.readString(file, StandardCharsets.US_ASCII), file.toString());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read private key file '" + file + "'", e);
        }
    }

    /**
     * The key derived from the control (command HMAC) key: HMAC-SHA256 of the control key over
     * {@code canaryflow-decision-signing-key-v1} is the 32-byte private key. Whoever holds the
     * control key can then sign decisions; configure a key of its own to keep the two apart.
     */
    public static DecisionSigner derivedFrom(byte[] controlKey) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(controlKey, "HmacSHA256"));
            return new DecisionSigner(mac.doFinal(DERIVATION));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** The public key that verifies this signer's decisions. */
    public DecisionKey key() {
        return key;
    }

    /** The Ed25519 signature (64 bytes) of {@code value} under the decision context. */
    public byte[] sign(byte[] value) {
        try {
            Signature signature = Signature.getInstance("Ed25519"); // per call: no shared state
            signature.initSign(privateKey());
            signature.update(DecisionKey.CONTEXT);
            signature.update(value);
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }

    /** The private key as a PEM {@code PRIVATE KEY} (PKCS#8). */
    public String toPem() {
        return DecisionKey.Pem.encode(pkcs8(seed), "PRIVATE KEY");
    }

    private PrivateKey privateKey() throws GeneralSecurityException {
        return KeyFactory.getInstance("Ed25519")
                .generatePrivate(new PKCS8EncodedKeySpec(pkcs8(seed)));
    }

    private static byte[] pkcs8(byte[] seed) {
        byte[] der = Arrays.copyOf(PKCS8_PREFIX, PKCS8_PREFIX.length + seed.length);
        System.arraycopy(seed, 0, der, PKCS8_PREFIX.length, seed.length);
        return der;
    }

    /**
     * The public key of a seed. The JDK derives it only while generating a pair, drawing the seed
     * from the random source it is given: a source that yields exactly this seed derives its key.
     */
    private static DecisionKey publicKeyOf(byte[] seed) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
            g.initialize(
                    NamedParameterSpec.ED25519,
                    new SecureRandom() {
                        private static final long serialVersionUID = 1L;

                        @Override
                        public void nextBytes(byte[] bytes) {
                            if (bytes.length != seed.length) {
                                throw new IllegalStateException(
                                        "Ed25519 asked for " + bytes.length + " random bytes");
                            }
                            System.arraycopy(seed, 0, bytes, 0, seed.length);
                        }
                    });
            return DecisionKey.of(g.generateKeyPair().getPublic());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is not available", e);
        }
    }

    @Override
    public String toString() {
        return "decision signer, key " + key.id(); // never the private key
    }
}
