package io.canaryflow.operators.control;

import io.canaryflow.operators.monitoring.MonitoringRecord;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Runs {@link JudgeFunction} on monitoring reports (first input) and commands (second input), with
 * event time the reports' alone: commands are control data, so their watermarks and idleness are
 * ignored and the second input counts as idle from the start. Otherwise the commands' time would
 * either hold the judge's window timers back or, once the reports are idle, release them all at
 * once.
 */
public class JudgeOperator
        extends KeyedCoProcessOperator<String, MonitoringRecord, SignedCommand, Decision> {
    private static final long serialVersionUID = 1L;

    public JudgeOperator(JudgeFunction function) {
        super(function);
    }

    @Override
    public void open() throws Exception {
        super.open();
        combinedWatermark.updateStatus(1, true);
    }

    @Override
    public void processWatermark2(Watermark mark) {}

    @Override
    protected void processWatermarkStatus(WatermarkStatus status, int index) throws Exception {
        if (index == 0) {
            super.processWatermarkStatus(status, index);
        }
    }
}
