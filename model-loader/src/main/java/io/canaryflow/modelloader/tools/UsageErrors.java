package io.canaryflow.modelloader.tools;

import picocli.CommandLine;

/**
 * How every command-line tool answers a usage error: what is wrong, the closest known option or
 * command, and where the help is; status 2.
 */
public final class UsageErrors {
    private UsageErrors() {}

    /** A picocli parameter exception handler. */
    public static int handle(CommandLine.ParameterException e, String[] args) {
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
}
