/// Characters that must never travel in people's text: they can rewrite other people's terminals
/// (ESC sequences), ring bells, or make text read backwards (bidirectional overrides, U+202E).
/// Ordinary Unicode — Welsh, accents, emoji, other scripts — is left alone; newlines and tabs are
/// allowed where a field may hold several lines.
public enum TerminalText {
    /// Whether `scalar` is a control or bidirectional formatting character.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x08, 0x0B...0x1F, 0x7F...0x9F: true  // C0 (but tab and newline), DEL, C1
        case 0x0D: true  // carriage return: overwrites a line in a terminal
        case 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: true  // bidi embeddings, overrides, isolates, marks
        case 0x2028, 0x2029: true  // line and paragraph separators
        default: false
        }
    }

    /// The first unsafe character in `text`, if any.
    public static func firstUnsafe(in text: String) -> Unicode.Scalar? {
        text.unicodeScalars.first(where: isUnsafe)
    }

    /// `text` fit for a terminal: every unsafe character shown as its code (`<U+001B>`), so data
    /// can never act on the screen it is printed on.
    public static func safe(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isUnsafe) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                out.append(contentsOf: "<U+\(hex(scalar.value))>".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Refuses any string in a mutation's arguments that holds an unsafe character, naming where.
    public static func check(_ value: JSONValue, mutation: String, path: String = "") throws(LocalityError) {
        switch value {
        case .string(let text):
            if let scalar = firstUnsafe(in: text) {
                throw LocalityError.invalidInput(
                    "\(path.isEmpty ? "the text" : "'\(path)'") of \(mutation) holds a control character (U+\(hex(scalar.value))); "
                        + "control and text-direction characters are not allowed in Locality's text")
            }
        case .array(let items):
            for (index, item) in items.enumerated() { try check(item, mutation: mutation, path: "\(path)[\(index)]") }
        case .object(let members):
            for (key, member) in members { try check(member, mutation: mutation, path: path.isEmpty ? key : "\(path).\(key)") }
        default: break
        }
    }
}
