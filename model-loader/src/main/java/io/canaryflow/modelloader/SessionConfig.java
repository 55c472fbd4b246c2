package io.canaryflow.modelloader;

import java.io.Serializable;

/**
 * How sessions are created.
 *
 * @param device {@code AUTO} tries CUDA on {@code deviceId} and falls back to CPU
 * @param intraOpThreads ONNX Runtime intra-op threads per session; 1 is fastest for small models on
 *     few cores
 * @param warmUpRuns inference calls made before a session goes live
 */
public record SessionConfig(Device device, int deviceId, int intraOpThreads, int warmUpRuns)
        implements Serializable {
    public SessionConfig {
        if (device == null) {
            throw new IllegalArgumentException("device must be set");
        }
        if (deviceId < 0) {
            throw new IllegalArgumentException("device id must be >= 0, got " + deviceId);
        }
        if (intraOpThreads < 1) {
            throw new IllegalArgumentException(
                    "intra-op threads must be >= 1, got " + intraOpThreads);
        }
        if (warmUpRuns < 1) {
            throw new IllegalArgumentException("warm-up runs must be >= 1, got " + warmUpRuns);
        }
    }

    public static SessionConfig defaults() {
        return new SessionConfig(Device.AUTO, 0, 1, 3);
    }
}
