package io.canaryflow.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time per thread group while a job runs: every 50 ms it reads each live thread's CPU time, so
 * the time of threads that end with the job is counted up to their last read. A group is a thread's
 * name without its numbers (Flink's task threads are named after their chains: "join labels
 * (1/2)#0" and "join labels (2/2)#0" are one group). What the process spent on threads the JVM does
 * not know (RocksDB's own) is the process's CPU time less every thread's.
 */
final class ThreadCpu implements AutoCloseable {
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final Map<Long, Long> last = new HashMap<>();
    private final Map<Long, String> names = new HashMap<>();
    private final Map<Long, Long> first = new HashMap<>();
    private final long processStart = EndToEndBenchmark.processCpuNanos();
    private final Thread sampler;
    private volatile boolean running = true;

    ThreadCpu() {
        read();
        first.putAll(last);
        sampler =
                new Thread(
                        () -> {
                            while (running) {
                                read();
                                try {
                                    Thread.sleep(50);
                                } catch (InterruptedException e) {
                                    return;
                                }
                            }
                        },
                        "benchmark-thread-cpu");
        sampler.setDaemon(true);
        sampler.start();
    }

    private synchronized void read() {
        long[] ids = threads.getAllThreadIds();
        ThreadInfo[] infos = threads.getThreadInfo(ids);
        for (int i = 0; i < ids.length; i++) {
            long cpu = threads.getThreadCpuTime(ids[i]);
            if (cpu < 0 || infos[i] == null) {
                continue;
            }
            last.put(ids[i], cpu);
            names.putIfAbsent(ids[i], infos[i].getThreadName());
        }
    }

    /** Stops sampling; microseconds of CPU per event per thread group, largest first. */
    synchronized Map<String, Double> perEvent(int events) throws InterruptedException {
        running = false;
        sampler.interrupt();
        read();
        long process = EndToEndBenchmark.processCpuNanos() - processStart;
        Map<String, Long> groups = new TreeMap<>();
        long java = 0;
        for (Map.Entry<Long, Long> e : last.entrySet()) {
            long spent = e.getValue() - first.getOrDefault(e.getKey(), 0L);
            String group = names.get(e.getKey()).replaceAll("[0-9]+", "N");
            if (group.length() > 90) {
                group = group.substring(0, 90) + "…";
            }
            groups.merge(group, spent, Long::sum);
            java += spent;
        }
        groups.put(
                "(threads the JVM does not know: RocksDB's own, native libraries')",
                process - java);
        Map<String, Double> out = new LinkedHashMap<>();
        groups.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .forEach(e -> out.put(e.getKey(), e.getValue() / 1e3 / events));
        return out;
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
