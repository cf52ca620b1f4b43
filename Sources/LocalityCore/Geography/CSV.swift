/// Comma-separated values as real files have them (RFC 4180): quoted fields holding commas,
/// quotes doubled inside quotes, line breaks inside quotes, CRLF or LF, an optional UTF-8 byte
/// order mark. Every problem names its line.
public enum CSV {
    public struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        public var line: Int
        public var message: String

        public init(line: Int, _ message: String) {
            self.line = line
            self.message = message
        }

        public var description: String { line > 0 ? "line \(line): \(message)" : message }
    }

    /// Records with the line each starts on. Blank lines are skipped.
    public static func records(_ text: String) throws(Problem) -> [(line: Int, fields: [String])] {
        var scalars = Substring(text).unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var quotedField = false
        var index = scalars.startIndex
        func endField() {
            fields.append(String(field))
            field = String.UnicodeScalarView()
            quotedField = false
        }
        func endRecord() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append((recordLine, fields)) }
            fields = []
        }
        while index < scalars.endIndex {
            let scalar = scalars[index]
            index = scalars.index(after: index)
            if inQuotes {
                if scalar == "\"" {
                    if index < scalars.endIndex, scalars[index] == "\"" {
                        field.append("\"")
                        index = scalars.index(after: index)
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"":
                guard field.isEmpty, !quotedField else {
                    throw Problem(line: line, "a quote in the middle of an unquoted field; quote the whole field and double the quotes inside")
                }
                inQuotes = true
                quotedField = true
            case ",":
                endField()
            case "\r":
                if index < scalars.endIndex, scalars[index] == "\n" { continue }
                endRecord()
                line += 1
                recordLine = line
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            default:
                if quotedField {
                    throw Problem(line: line, "text after a closing quote; a quoted field ends at its quote")
                }
                field.append(scalar)
            }
        }
        if inQuotes { throw Problem(line: recordLine, "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        return records
    }
}
