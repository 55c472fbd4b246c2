package io.canaryflow.modelloader.tools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A reference data sample: named numeric columns in the model's input order, and optionally a label
 * column. Read from CSV with a header row; every other cell must be a number.
 *
 * @param features column names in model input order
 * @param rows one {@code double[]} per row, in {@code features} order
 * @param labels per-row label, or {@code null} when the sample has no label column
 */
public record ReferenceData(List<String> features, List<double[]> rows, double[] labels) {

    /**
     * Reads a CSV file. {@code labelColumn} (may be null) names a column that is the label and not
     * a feature.
     *
     * @throws IllegalArgumentException naming the file, line and column of the first bad cell
     */
    public static ReferenceData readCsv(Path file, String labelColumn) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            throw new IllegalArgumentException(file + ": empty reference CSV, expected a header");
        }
        String[] header = lines.get(0).split(",", -1);
        int labelIndex = -1;
        List<String> features = new ArrayList<>();
        for (int c = 0; c < header.length; c++) {
            String name = header[c].trim();
            if (name.equals(labelColumn)) {
                labelIndex = c;
            } else {
                features.add(name);
            }
        }
        if (labelColumn != null && labelIndex < 0) {
            throw new IllegalArgumentException(
                    String.format("%s: label column '%s' is not in the header", file, labelColumn));
        }
        List<double[]> rows = new ArrayList<>();
        List<Double> labels = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (cells.length != header.length) {
                throw new IllegalArgumentException(
                        String.format(
                                "%s line %d: %d cells, header has %d",
                                file, i + 1, cells.length, header.length));
            }
            double[] row = new double[features.size()];
            int f = 0;
            for (int c = 0; c < cells.length; c++) {
                double v;
                try {
                    v = Double.parseDouble(cells[c].trim());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(
                            String.format(
                                    "%s line %d column '%s': '%s' is not a number",
                                    file, i + 1, header[c].trim(), cells[c]),
                            e);
                }
                if (c == labelIndex) {
                    labels.add(v);
                } else {
                    row[f++] = v;
                }
            }
            rows.add(row);
        }
        double[] labelArray =
                labelIndex < 0 ? null : labels.stream().mapToDouble(Double::doubleValue).toArray();
        return new ReferenceData(features, rows, labelArray);
    }

    /** Writes the sample as CSV, label last under {@code labelColumn} when there are labels. */
    public void writeCsv(Path file, String labelColumn) throws IOException {
        StringBuilder out = new StringBuilder(String.join(",", features));
        if (labels != null) {
            out.append(',').append(labelColumn);
        }
        out.append('\n');
        for (int r = 0; r < rows.size(); r++) {
            double[] row = rows.get(r);
            for (int c = 0; c < row.length; c++) {
                if (c > 0) {
                    out.append(',');
                }
                out.append(row[c]);
            }
            if (labels != null) {
                out.append(',').append(labels[r]);
            }
            out.append('\n');
        }
        Files.writeString(file, out, StandardCharsets.UTF_8);
    }

    /** Values of one column across all rows. */
    public double[] column(int index) {
        double[] values = new double[rows.size()];
        for (int r = 0; r < values.length; r++) {
            values[r] = rows.get(r)[index];
        }
        return values;
    }
}
