package io.canaryflow.operators.control;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Signs and checks commands with HMAC-SHA256 (RFC 2104, FIPS 198-1) over their canonical form:
 *
 * <pre>
 * canaryflow-command-v1 LF command_id LF experiment LF ACTION LF issued_by LF issued_at LF plan
 * </pre>
 *
 * where {@code plan} is the canonical JSON of the plan (object keys sorted, no spaces) or empty,
 * and {@code issued_at} is decimal epoch milliseconds. The signature is written {@code
 * hmac-sha256:} followed by the lower-case hex MAC.
 */
public final class CommandSigner {
    public static final String PREFIX = "hmac-sha256:";

    private final SecretKeySpec key;

    public CommandSigner(byte[] key) {
        if (key == null || key.length < 16) {
            throw new IllegalArgumentException(
                    "the control signing key must have at least 16 bytes");
        }
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    }

    /** The bytes a command's signature covers. */
    public static byte[] canonical(Command c) {
        String text =
                String.join(
                        "\n",
                        "canaryflow-command-v1",
                        c.commandId(),
                        c.experiment(),
                        c.action().name(),
                        c.issuedBy() == null ? "" : c.issuedBy(),
                        Long.toString(c.issuedAt()),
                        c.plan() == null ? "" : c.plan());
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** HMAC-SHA256 of {@code data}, lower-case hex. */
    public String mac(byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return HexFormat.of().formatHex(mac.doFinal(data));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    /** The command with its signature. */
    public Command sign(Command c) {
        return c.signed(PREFIX + mac(canonical(c)));
    }

    /** Whether the command's signature is this key's over its canonical form. */
    public boolean verifies(Command c) {
        String signature = c.signature();
        if (signature == null || !signature.startsWith(PREFIX)) {
            return false;
        }
        byte[] expected = mac(canonical(c)).getBytes(StandardCharsets.US_ASCII);
        byte[] actual =
                signature
                        .substring(PREFIX.length())
                        .toLowerCase(java.util.Locale.ROOT)
                        .getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(expected, actual); // constant time
    }
}
