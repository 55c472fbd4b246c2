package io.canaryflow.operators.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CommandsTest {
    static final byte[] KEY = "a-test-key-of-32-bytes-000000000".getBytes(StandardCharsets.UTF_8);
    static final long NOW = 1_800_000_000_000L;

    @Test
    void shouldComputeHmacSha256AsPublishedInRfc4231() {
        // RFC 4231, test case 4: a 25-byte key, 50 bytes of 0xcd (case 2's key "Jefe" is below
        // the 16 bytes the signer requires)
        CommandSigner case4 =
                new CommandSigner(hex("0102030405060708090a0b0c0d0e0f10111213141516171819"));
        byte[] data = new byte[50];
        java.util.Arrays.fill(data, (byte) 0xcd);
        assertThat(case4.mac(data))
                .isEqualTo("82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
        // test case 3: 20 bytes of 0xaa, 50 bytes of 0xdd
        byte[] key3 = new byte[20];
        java.util.Arrays.fill(key3, (byte) 0xaa);
        byte[] data3 = new byte[50];
        java.util.Arrays.fill(data3, (byte) 0xdd);
        assertThat(new CommandSigner(key3).mac(data3))
                .isEqualTo("773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
    }

    static byte[] hex(String s) {
        return java.util.HexFormat.of().parseHex(s);
    }

    static Command command(String id, long issuedAt, String plan) {
        return new Command(id, "fraud", Command.Action.PAUSE, plan, "alice", issuedAt, null);
    }

    @Test
    void shouldAcceptASignedFreshNewCommandAndRejectEveryOtherKindNamingWhy() {
        CommandSigner signer = new CommandSigner(KEY);
        CommandCheck check = new CommandCheck(signer, 300_000);
        Command good = signer.sign(command("c-1", NOW - 1_000, null));
        assertThat(check.check(good, NOW, id -> false).accepted()).isTrue();

        assertThat(check.check(command("c-2", NOW, null), NOW, id -> false).rejection())
                .isEqualTo(CommandCheck.Rejection.UNSIGNED);
        Command forged =
                new CommandSigner("another-key-of-the-same-length!!".getBytes())
                        .sign(command("c-3", NOW, null));
        assertThat(check.check(forged, NOW, id -> false).rejection())
                .isEqualTo(CommandCheck.Rejection.BAD_SIGNATURE);
        // a signed command changed afterwards: another experiment
        Command tampered =
                new Command(
                        good.commandId(),
                        "other",
                        good.action(),
                        good.plan(),
                        good.issuedBy(),
                        good.issuedAt(),
                        good.signature());
        assertThat(check.check(tampered, NOW, id -> false).rejection())
                .isEqualTo(CommandCheck.Rejection.BAD_SIGNATURE);
        Command old = signer.sign(command("c-4", NOW - 300_001, null));
        CommandCheck.Outcome stale = check.check(old, NOW, id -> false);
        assertThat(stale.rejection()).isEqualTo(CommandCheck.Rejection.STALE);
        assertThat(stale.detail()).contains("300001 ms ago");
        Command future = signer.sign(command("c-5", NOW + 400_000, null));
        assertThat(check.check(future, NOW, id -> false).detail()).contains("in the future");
        assertThat(check.check(good, NOW, Set.of("c-1")::contains).rejection())
                .isEqualTo(CommandCheck.Rejection.REPLAYED);
    }

    @Test
    void shouldSignThePlanInCanonicalFormSoKeyOrderDoesNotMatter() throws Exception {
        CommandSigner signer = new CommandSigner(KEY);
        byte[] a =
                "{\"type\":\"command\",\"command_id\":\"c-9\",\"experiment\":\"fraud\",\"action\":\"set_plan\",\"issued_at\":1,\"plan\":{\"b\":2,\"a\":{\"y\":1,\"x\":[3,1]}}}"
                        .getBytes(StandardCharsets.UTF_8);
        byte[] b =
                "{\"plan\":{\"a\":{\"x\":[3,1],\"y\":1},\"b\":2},\"action\":\"SET_PLAN\",\"issued_at\":1,\"experiment\":\"fraud\",\"command_id\":\"c-9\",\"type\":\"command\"}"
                        .getBytes(StandardCharsets.UTF_8);
        Command ca = ControlCodec.command(ControlCodec.tree(a));
        Command cb = ControlCodec.command(ControlCodec.tree(b));
        assertThat(ca.plan()).isEqualTo("{\"a\":{\"x\":[3,1],\"y\":1},\"b\":2}");
        assertThat(signer.sign(ca).signature()).isEqualTo(signer.sign(cb).signature());
        // written and read back, the signed command still verifies
        Command back = ControlCodec.command(ControlCodec.tree(ControlCodec.write(signer.sign(ca))));
        assertThat(signer.verifies(back)).isTrue();
        assertThat(back).isEqualTo(signer.sign(ca));
    }

    @Test
    void shouldRejectMalformedCommandsAndShortKeys() {
        assertThatThrownBy(
                        () ->
                                ControlCodec.command(
                                        ControlCodec.tree(
                                                "{\"type\":\"command\",\"command_id\":\"c\",\"experiment\":\"e\",\"action\":\"jump\",\"issued_at\":1}"
                                                        .getBytes(StandardCharsets.UTF_8))))
                .hasMessageContaining("unknown action 'jump'");
        assertThatThrownBy(
                        () ->
                                ControlCodec.command(
                                        ControlCodec.tree(
                                                "{\"type\":\"command\",\"experiment\":\"e\",\"action\":\"pause\",\"issued_at\":1}"
                                                        .getBytes(StandardCharsets.UTF_8))))
                .hasMessageContaining("'command_id'");
        assertThatThrownBy(() -> new CommandSigner("short".getBytes()))
                .hasMessageContaining("at least 16 bytes");
    }
}
