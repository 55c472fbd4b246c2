package io.canaryflow.operators.control;

import io.canaryflow.operators.records.SourceRecord;

/** A command as read from the control topic, with its record for dead letters. */
public record SignedCommand(Command command, SourceRecord source) {}
