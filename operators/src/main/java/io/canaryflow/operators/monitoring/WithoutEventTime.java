package io.canaryflow.operators.monitoring;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.watermark.Watermark;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.runtime.watermarkstatus.WatermarkStatus;

/**
 * Forwards records and drops their time: it passes on no watermark and declares its output idle
 * from the start, so a task that reads its output together with another stream runs on that other
 * stream's time alone. The label reports take this way to the monitoring sink and the judge: they
 * are complete when emitted, and the label join's time (which waits for the labels topic) must not
 * hold back the window reports' time, which the judge's windows follow.
 */
public final class WithoutEventTime<T> extends AbstractStreamOperator<T>
        implements OneInputStreamOperator<T, T> {
    private static final long serialVersionUID = 1L;

    @Override
    public void open() throws Exception {
        super.open();
        output.emitWatermarkStatus(WatermarkStatus.IDLE);
    }

    @Override
    public void processElement(StreamRecord<T> element) {
        output.collect(element);
    }

    @Override
    public void processWatermark(Watermark mark) {}

    @Override
    public void processWatermarkStatus(WatermarkStatus status) {}
}
