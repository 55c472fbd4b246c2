package io.canaryflow.testing;

import io.canaryflow.jobs.InferenceJob;
import io.canaryflow.jobs.Pipeline;
import io.canaryflow.jobs.config.JobConfig;
import io.canaryflow.jobs.kafka.KafkaEndpoints;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.JobID;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.checkpoint.AbstractCheckpointStats;
import org.apache.flink.runtime.checkpoint.FailedCheckpointStats;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Runs the real inference job (Kafka endpoints, bounded source) on a MiniCluster to completion. */
public final class JobRun {
    private JobRun() {}

    private static volatile List<String> lastFailedCheckpoints = List.of();

    /**
     * Whether a checkpoint failed only because tasks of a bounded job were starting or finishing: a
     * trigger that came before every task was running (declined: tasks not ready), that reached a
     * task as it finished (a bounded source at the end of its input, or any task at the end of the
     * job), or the coordinator stopping with the job. Such a checkpoint is skipped; nothing is
     * lost.
     */
    public static boolean causedByStartingOrFinishingTasks(String failure) {
        return failure.endsWith("Checkpoint was declined (task is closing)")
                || failure.endsWith("Checkpoint was declined (tasks not ready)")
                || failure.contains("checkpoint request for unknown task")
                || failure.endsWith("Checkpoint Coordinator is suspending.");
    }

    /** The failed checkpoints of a running job so far, with their reasons. */
    public static List<String> failedCheckpoints(MiniCluster cluster, JobID id) throws Exception {
        return failedCheckpoints(
                cluster.getExecutionGraph(id)
                        .get(30, TimeUnit.SECONDS)
                        .getCheckpointStatsSnapshot());
    }

    private static List<String> failedCheckpoints(
            org.apache.flink.runtime.checkpoint.CheckpointStatsSnapshot stats) {
        List<String> failed = new ArrayList<>();
        if (stats != null) {
            for (AbstractCheckpointStats c : stats.getHistory().getCheckpoints()) {
                if (c instanceof FailedCheckpointStats f) {
                    failed.add("checkpoint " + f.getCheckpointId() + ": " + f.getFailureMessage());
                }
            }
        }
        return List.copyOf(failed);
    }

    /** The failed checkpoints of the last job {@link #runToCompletion} ran, with their reasons. */
    public static List<String> lastFailedCheckpoints() {
        return lastFailedCheckpoints;
    }

    /**
     * Runs the job until its bounded source is drained and returns how many times any task was
     * restarted. Restarts are allowed (so a restart would be recovered from silently and must be
     * caught by this count, not by an exception).
     */
    public static int runToCompletion(MiniCluster cluster, JobConfig config, Duration timeout)
            throws Exception {
        return runToCompletion(cluster, config, timeout, UnaryOperator.identity());
    }

    /**
     * As above, with the job's Kafka endpoints decorated by {@code endpoints} (fault injection).
     */
    public static int runToCompletion(
            MiniCluster cluster,
            JobConfig config,
            Duration timeout,
            UnaryOperator<Pipeline.Endpoints> endpoints)
            throws Exception {
        JobClient client = start(config, endpoints);
        JobID id = client.getJobID();
        client.getJobExecutionResult().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        ArchivedExecutionGraph graph =
                cluster.getArchivedExecutionGraph(id).get(30, TimeUnit.SECONDS);
        int restarts = 0;
        for (AccessExecutionVertex vertex : graph.getAllExecutionVertices()) {
            restarts += vertex.getCurrentExecutionAttempt().getAttemptNumber();
        }
        lastFailedCheckpoints = failedCheckpoints(graph.getCheckpointStatsSnapshot());
        return restarts;
    }

    /**
     * Starts the job (for unbounded sources) and returns its client; the caller cancels it. The
     * job's endpoints can be decorated (fault injection); it restarts after a failure.
     */
    public static JobClient start(JobConfig config, UnaryOperator<Pipeline.Endpoints> endpoints)
            throws Exception {
        return start(config, endpoints, UnaryOperator.identity());
    }

    /**
     * As above, with the Flink configuration adjusted by {@code flinkSettings} (a savepoint to
     * restore, more restart attempts).
     */
    public static JobClient start(
            JobConfig config,
            UnaryOperator<Pipeline.Endpoints> endpoints,
            UnaryOperator<Configuration> flinkSettings)
            throws Exception {
        Configuration flink = Pipeline.flinkConfiguration(config);
        flink.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        flink.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 5);
        flink = flinkSettings.apply(flink);
        flink.set(
                RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(flink);
        InferenceJob.build(env, config, endpoints.apply(new KafkaEndpoints(config)));
        return env.executeAsync("it-" + config.plans().get(0).experiment());
    }
}
