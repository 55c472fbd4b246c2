package io.canaryflow.operators.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Signed decisions: keys as RFC 8032 derives them, PEM files as OpenSSL writes and reads them,
 * signatures OpenSSL verifies (an independent Ed25519 implementation), and each reason a decision
 * is refused.
 */
class DecisionSignatureTest {
    static final byte[] VALUE =
            "{\"type\":\"decision\",\"decision_id\":\"d-1\",\"action\":\"PROMOTE\"}"
                    .getBytes(StandardCharsets.UTF_8);

    @Test
    void shouldDeriveThePublicKeyOfRfc8032TestVector1() {
        // RFC 8032, section 7.1, TEST 1: secret key and public key
        DecisionSigner signer =
                DecisionSigner.ofSeed(
                        HexFormat.of()
                                .parseHex(
                                        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
        assertThat(HexFormat.of().formatHex(signer.key().raw()))
                .isEqualTo("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        // the key id: SHA-256 of the 32 raw bytes, first 8 bytes in hex (sha256sum of the raw key)
        assertThat(signer.key().id()).isEqualTo("21fe31dfa154a261");
    }

    @Test
    void shouldSignWhatOpenSslVerifiesAndVerifyWhatOpenSslSigns(@TempDir Path dir)
            throws Exception {
        assumeTrue(openssl(dir, "version") == 0, "openssl is not installed");
        Path privatePem = dir.resolve("private.pem");
        Path publicPem = dir.resolve("public.pem");
        assertThat(openssl(dir, "genpkey", "-algorithm", "ed25519", "-out", privatePem.toString()))
                .isZero();
        assertThat(
                        openssl(
                                dir,
                                "pkey",
                                "-in",
                                privatePem.toString(),
                                "-pubout",
                                "-out",
                                publicPem.toString()))
                .isZero();
        DecisionSigner signer = DecisionSigner.read(privatePem);
        DecisionKey key = DecisionKey.read(publicPem);
        assertThat(signer.key()).isEqualTo(key); // the public key derived here is OpenSSL's

        // what the job signs, OpenSSL verifies: context line, then the value bytes
        Path message = dir.resolve("message");
        Files.write(message, concat(DecisionKey.CONTEXT, VALUE));
        Path signature = dir.resolve("signature");
        Files.write(signature, signer.sign(VALUE));
        assertThat(verifyWithOpenSsl(dir, publicPem, message, signature)).isZero();
        Files.write(message, concat(DecisionKey.CONTEXT, "tampered".getBytes()));
        assertThat(verifyWithOpenSsl(dir, publicPem, message, signature)).isNotZero();

        // what OpenSSL signs, the key verifies
        Files.write(message, concat(DecisionKey.CONTEXT, VALUE));
        Path theirs = dir.resolve("theirs");
        assertThat(
                        openssl(
                                dir,
                                "pkeyutl",
                                "-sign",
                                "-inkey",
                                privatePem.toString(),
                                "-rawin",
                                "-in",
                                message.toString(),
                                "-out",
                                theirs.toString()))
                .isZero();
        assertThat(key.verifies(VALUE, Files.readAllBytes(theirs))).isTrue();
        assertThat(key.verifies("other".getBytes(), Files.readAllBytes(theirs))).isFalse();

        // the PEM this code writes, OpenSSL reads as the same key
        Path ours = dir.resolve("ours.pem");
        Files.writeString(ours, signer.toPem());
        Path oursPublic = dir.resolve("ours-public.pem");
        assertThat(
                        openssl(
                                dir,
                                "pkey",
                                "-in",
                                ours.toString(),
                                "-pubout",
                                "-out",
                                oursPublic.toString()))
                .isZero();
        assertThat(Files.readString(oursPublic)).isEqualTo(key.toPem());
    }

    @Test
    void shouldRefuseUnsignedForeignRotatedOutAndForgedDecisions() {
        DecisionSigner current = DecisionSigner.generate();
        DecisionSigner previous = DecisionSigner.generate();
        DecisionSigner mallory = DecisionSigner.generate();
        DecisionVerifier both = new DecisionVerifier(List.of(current.key(), previous.key()));
        DecisionVerifier rotated = new DecisionVerifier(List.of(current.key()));

        assertThat(both.check(VALUE, id(current), sig(current, VALUE)).accepted()).isTrue();
        assertThat(both.check(VALUE, id(previous), sig(previous, VALUE)).accepted()).isTrue();
        // the previous key once rotated out
        DecisionVerifier.Outcome old = rotated.check(VALUE, id(previous), sig(previous, VALUE));
        assertThat(old.rejection()).isEqualTo(DecisionVerifier.Rejection.UNTRUSTED_KEY);
        assertThat(old.detail()).contains(previous.key().id(), current.key().id());
        // unsigned, or half the headers
        assertThat(both.check(VALUE, null, null).rejection())
                .isEqualTo(DecisionVerifier.Rejection.UNSIGNED);
        assertThat(both.check(VALUE, id(current), null).rejection())
                .isEqualTo(DecisionVerifier.Rejection.UNSIGNED);
        // signed by another key under a trusted key's id: forged
        assertThat(both.check(VALUE, id(current), sig(mallory, VALUE)).rejection())
                .isEqualTo(DecisionVerifier.Rejection.BAD_SIGNATURE);
        // a genuine signature over a value changed afterwards (one byte)
        byte[] changed = VALUE.clone();
        changed[changed.length - 3] = 'X';
        assertThat(both.check(changed, id(current), sig(current, VALUE)).rejection())
                .isEqualTo(DecisionVerifier.Rejection.BAD_SIGNATURE);
        // garbage in the signature header
        assertThat(both.check(VALUE, id(current), "***".getBytes()).rejection())
                .isEqualTo(DecisionVerifier.Rejection.BAD_SIGNATURE);
        assertThat(both.check(VALUE, id(current), "AAAA".getBytes()).rejection())
                .isEqualTo(DecisionVerifier.Rejection.BAD_SIGNATURE);
    }

    @Test
    void shouldRefuseReplaysByIdAndByTimeNotAfterTheNewest() {
        DecisionVerifier.Replays replays = new DecisionVerifier.Replays(3);
        long t = 1_700_000_000_000L;
        assertThat(replays.check("e", "d-1", t).accepted()).isTrue();
        replays.accept("e", "d-1", t);
        assertThat(replays.check("e", "d-1", t + 5).detail()).contains("acted on before");
        assertThat(replays.check("e", "d-2", t).rejection())
                .isEqualTo(DecisionVerifier.Rejection.REPLAYED);
        assertThat(replays.check("e", "d-2", t - 1).detail()).contains("1 ms later");
        assertThat(replays.check("e", "d-2", t + 1).accepted()).isTrue();
        assertThat(replays.check("other", "d-3", 0).accepted()).isTrue(); // per key
        for (String id : new String[] {"d-4", "d-5", "d-6"}) {
            replays.accept("f", id, t);
        }
        assertThat(replays.ids()).containsExactly("d-4", "d-5", "d-6"); // the last 3 remembered
    }

    @Test
    void shouldDeriveTheSameKeyFromTheSameControlKeyAndNeverPrintAPrivateKey() {
        byte[] control = "the-control-key-0123456789".getBytes(StandardCharsets.UTF_8);
        DecisionSigner a = DecisionSigner.derivedFrom(control);
        assertThat(DecisionSigner.derivedFrom(control).key()).isEqualTo(a.key());
        assertThat(DecisionSigner.derivedFrom("another-control-key-012345".getBytes()).key())
                .isNotEqualTo(a.key());
        assertThat(a.toString()).doesNotContain(a.toPem().split("\n")[1]);
        assertThat(DecisionSigner.fromPem(a.toPem(), "test").key()).isEqualTo(a.key());
        assertThat(DecisionKey.fromPem(a.key().toPem(), "test")).isEqualTo(a.key());
    }

    @Test
    void shouldNameTheSourceOfAKeyThatIsNotEd25519() throws Exception {
        java.security.KeyPairGenerator rsa = java.security.KeyPairGenerator.getInstance("RSA");
        rsa.initialize(1024);
        java.security.KeyPair pair = rsa.generateKeyPair();
        String pem =
                "-----BEGIN PRIVATE KEY-----\n"
                        + Base64.getMimeEncoder().encodeToString(pair.getPrivate().getEncoded())
                        + "\n-----END PRIVATE KEY-----\n";
        assertThatThrownBy(() -> DecisionSigner.fromPem(pem, "key 'control.signing-key'"))
                .hasMessageStartingWith("key 'control.signing-key': not an Ed25519 private key");
        assertThatThrownBy(() -> DecisionKey.fromPem("hello", "/etc/keys/pub.pem"))
                .hasMessageContaining("/etc/keys/pub.pem")
                .hasMessageContaining("BEGIN PUBLIC KEY");
        assertThatThrownBy(
                        () -> DecisionSigner.fromPem(DecisionSigner.generate().key().toPem(), "x"))
                .hasMessageContaining("BEGIN PRIVATE KEY");
    }

    static byte[] id(DecisionSigner s) {
        return s.key().id().getBytes(StandardCharsets.US_ASCII);
    }

    static byte[] sig(DecisionSigner s, byte[] value) {
        return Base64.getEncoder().encode(s.sign(value));
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    static int verifyWithOpenSsl(Path dir, Path publicPem, Path message, Path signature)
            throws Exception {
        return openssl(
                dir,
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                publicPem.toString(),
                "-rawin",
                "-in",
                message.toString(),
                "-sigfile",
                signature.toString());
    }

    static int openssl(Path dir, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        Process p;
        try {
            p =
                    new ProcessBuilder(command)
                            .directory(dir.toFile())
                            .redirectErrorStream(true)
                            .redirectOutput(dir.resolve("openssl.log").toFile())
                            .start();
        } catch (IOException e) {
            return -1; // not installed
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }
}
