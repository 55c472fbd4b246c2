package io.canaryflow.jobs.cli;

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
        cl.setParameterExceptionHandler(Cli::usageError);
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
     * A usage error: what is wrong, the closest known option or command, and where the help is;
     * status 2.
     */
    public static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cl = e.getCommandLine();
        String name = cl.getCommandSpec().qualifiedName();
        cl.getErr().println(name + ": " + e.getMessage());
        if (e instanceof CommandLine.UnmatchedArgumentException u) {
            java.util.List<String> suggestions = new java.util.ArrayList<>(u.getSuggestions());
            for (String arg : u.getUnmatched()) {
                if (arg.startsWith("-") && suggestions.isEmpty()) {
                    String given = arg.split("=", 2)[0];
                    cl.getCommandSpec().options().stream()
                            .flatMap(o -> java.util.Arrays.stream(o.names()))
                            .filter(n -> distance(n, given) <= Math.max(2, given.length() / 3))
                            .min(java.util.Comparator.comparingInt(n -> distance(n, given)))
                            .ifPresent(suggestions::add);
                }
            }
            if (!suggestions.isEmpty()) {
                cl.getErr().println("Did you mean " + String.join(" or ", suggestions) + "?");
            }
        }
        cl.getErr().println("See '" + name + " --help'.");
        return 2;
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

    /** Edit distance (Levenshtein) of two option names. */
    static int distance(String a, String b) {
        int[] row = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            row[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int above = row[j];
                row[j] =
                        Math.min(
                                Math.min(row[j] + 1, row[j - 1] + 1),
                                diagonal + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.length()];
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
