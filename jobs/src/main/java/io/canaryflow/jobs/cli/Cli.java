package io.canaryflow.jobs.cli;

import io.canaryflow.modelloader.tools.UsageErrors;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * How every command-line tool runs: picocli parses (unknown options are refused with the closest
 * known one suggested; {@code --help} on every command), and a failure prints its message, with no
 * stack trace, and exits with status 1; a usage error exits with 2.
 */
public final class Cli {
    private Cli() {}

    /** The command line of {@code command}, writing to {@code out} and {@code err}. */
    public static CommandLine of(Object command, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(command);
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler(UsageErrors::handle);
        cl.setExecutionExceptionHandler(
                (e, line, parsed) -> {
                    if (e instanceof IllegalArgumentException
                            || e instanceof io.canaryflow.jobs.config.ConfigException) {
                        line.getErr().println(line.getCommandName() + ": " + e.getMessage());
                        return 2;
                    }
                    line.getErr().println(line.getCommandName() + ": failed: " + describe(e));
                    return 1;
                });
        return cl;
    }

    /**
     * Runs {@code command} on {@code args} with the process's streams and exits with its status.
     */
    public static void main(Object command, String[] args) {
        int status =
                of(command, new PrintWriter(System.out, true), new PrintWriter(System.err, true))
                        .execute(args);
        System.exit(status);
    }

    /** A failure's message and, if it says more, its root cause's: "what failed: why". */
    static String describe(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        if (root != e && root.getMessage() != null && !message.contains(root.getMessage())) {
            message += ": " + root.getMessage();
        }
        return message;
    }
}
