/// A plain text table for terminals: columns padded to their widest cell, two spaces apart, a
/// header underlined; every cell made safe for the terminal (see `TerminalText`).
public enum TextTable {
    public static func lines(_ header: [String], _ rows: [[String]]) -> [String] {
        let safe = rows.map { $0.map(TerminalText.safe) }
        var widths = header.map(\.count)
        for row in safe {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        return [line(header), line(widths.map { String(repeating: "─", count: $0) })] + safe.map(line)
    }
}
