package io.canaryflow.operators.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The calibration report's scenario table, checked in every build (the report itself runs only with
 * {@code -Dcalibration=true}): a name in its map of boundaries that names no scenario would
 * otherwise surface only after minutes of simulation, as a NullPointerException.
 */
class CalibrationScenariosTest {
    @Test
    void everyBoundaryNamesAScenario() {
        assertEquals(
                List.of(),
                CalibrationReport.unknownBoundaryNames(CalibrationReport.scenarioNames()),
                "names in CalibrationReport.BOUNDARIES that are no scenario's");
    }

    @Test
    void aMistypedNameIsFound() {
        Set<String> names = CalibrationReport.scenarioNames();
        names.remove("A/B 90/10, exactly at +50 %");
        assertEquals(
                List.of("A/B 90/10, exactly at +50 %"),
                CalibrationReport.unknownBoundaryNames(names));
    }

    @Test
    void scenarioNamesAreDistinct() {
        List<String> names =
                CalibrationReport.scenarios().stream()
                        .map(CalibrationReport.Scenario::name)
                        .toList();
        assertEquals(names.size(), new HashSet<>(names).size(), "a name twice: " + names);
    }
}
