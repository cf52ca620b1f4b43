/// Organisation identifiers as org-id.guide defines them: a register's prefix and the identifier
/// that register gives (`GB-CHC-1090095`, `GB-COH-09506232`). The UK registers are held here as
/// data, with the formats those registers use where there is one.
///
/// Register entries from org-id.guide (Open Data Services Co-operative), licensed under the Open
/// Database License (ODbL) v1.0.
public enum OrgID {
    public struct Register: Sendable {
        public var prefix: String
        public var name: String
        /// What a valid identifier looks like, in words, and the check.
        public var format: String
        let valid: @Sendable (String) -> Bool
    }

    static func digits(_ range: ClosedRange<Int>) -> @Sendable (String) -> Bool {
        { text in range.contains(text.count) && text.allSatisfy(\.isASCIIDigit) }
    }

    /// A council's three capital letters (SHR).
    static let threeLetters: @Sendable (String) -> Bool = { text in text.count == 3 && text.allSatisfy { $0.isASCII && $0.isUppercase } }

    static func code(_ range: ClosedRange<Int>, uppercase: Bool = true) -> @Sendable (String) -> Bool {
        { text in
            range.contains(text.count) && text.allSatisfy { $0.isASCII && ($0.isNumber || $0.isLetter || $0 == "-" || $0 == "/" || $0 == ".") }
                && (!uppercase || text == text.uppercased())
        }
    }

    /// The UK registers of org-id.guide (its `gb` list).
    public static let registers: [Register] = [
        Register(prefix: "GB-CHC", name: "Charity Commission for England and Wales", format: "the charity's number: 6 to 8 digits (a linked charity adds -N)") { text in
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            return (parts.count == 1 || (parts.count == 2 && digits(1...3)(String(parts[1])))) && digits(6...8)(String(parts[0]))
        },
        Register(prefix: "GB-COH", name: "Companies House", format: "the company number: 8 characters, digits or two letters and six digits (09506232, SC123456)") { text in
            text.count == 8 && (text.allSatisfy(\.isASCIIDigit)
                || (text.prefix(2).allSatisfy { $0.isASCII && $0.isUppercase } && text.dropFirst(2).allSatisfy(\.isASCIIDigit)))
        },
        Register(prefix: "GB-SC", name: "Scottish Charity Register", format: "SC and six digits (SC042386)") { text in
            text.count == 8 && text.hasPrefix("SC") && text.dropFirst(2).allSatisfy(\.isASCIIDigit)
        },
        Register(prefix: "GB-NIC", name: "Charity Commission for Northern Ireland", format: "the charity's number: 5 or 6 digits", valid: digits(5...6)),
        Register(prefix: "GB-MPR", name: "Mutuals Public Register", format: "the society's register number (235C, IP031455)", valid: code(2...12)),
        Register(prefix: "GB-CASC", name: "Community amateur sports clubs registered with HMRC", format: "the club's reference", valid: code(4...20, uppercase: false)),
        Register(prefix: "GB-LAE", name: "Local Authorities for England Register", format: "the council's three-letter code (SHR)", valid: threeLetters),
        Register(prefix: "GB-LAS", name: "Scottish Local Authority Register", format: "the council's three-letter code (ORK)", valid: threeLetters),
        Register(prefix: "GB-LANI", name: "Local authorities for Northern Ireland register", format: "the council's three-letter code (BFS)", valid: threeLetters),
        Register(prefix: "GB-PLA", name: "Principal Local Authority Register for Wales", format: "the council's three-letter code (AGY)", valid: threeLetters),
        Register(prefix: "GB-EDU", name: "Register of Schools (England and Wales)", format: "the school's 6-digit URN", valid: digits(6...6)),
        Register(prefix: "GB-WALEDU", name: "Register of Schools (Wales)", format: "the school's 7-digit number", valid: digits(7...7)),
        Register(prefix: "GB-SCOTEDU", name: "Register of Schools (Scotland)", format: "the school's 7-digit number", valid: digits(7...7)),
        Register(prefix: "GB-NHS", name: "NHS Digital — Organisation Data Service", format: "the ODS code (01F, RAX)", valid: code(3...6)),
        Register(prefix: "GB-GOR", name: "Government Organisation Register", format: "the register's code (OT1211)", valid: code(2...10)),
        Register(prefix: "GB-GOV", name: "UK Government Departments Reference Numbers", format: "the department's number", valid: digits(1...4)),
        Register(prefix: "GB-GOVUK", name: "GOV.UK — Government Departments, Agencies & Public Bodies", format: "the GOV.UK slug", valid: code(2...80, uppercase: false)),
        Register(prefix: "GB-COE", name: "Church of England Church Codes", format: "the church code (6 digits)", valid: digits(6...6)),
        Register(prefix: "GB-SHPE", name: "Registered Social Housing Providers (England)", format: "the provider's code (LH4401, H4244)", valid: code(2...8)),
        Register(prefix: "GB-UKPRN", name: "UK Register of Learning Providers", format: "the 8-digit UKPRN", valid: digits(8...8)),
        Register(prefix: "GB-HESA", name: "Higher Education Statistics Agency", format: "the 4-digit institution code", valid: digits(4...4)),
        Register(prefix: "GB-IRN", name: "Schools Plus (Northern Ireland)", format: "the school reference (542-0059)", valid: code(5...10)),
        Register(prefix: "GB-REV", name: "HM Revenue and Customs", format: "the HMRC reference (X6243)", valid: code(2...12)),
        Register(prefix: "GB-CCSCUST", name: "Crown Commercial Service customers", format: "the customer number", valid: digits(4...10)),
        Register(prefix: "GB-SRS", name: "Supplier Registration Service", format: "the supplier reference", valid: code(4...80, uppercase: false)),
    ]

    /// The register a prefix names, if it is one of the UK's.
    public static func register(_ prefix: String) -> Register? { registers.first { $0.prefix == prefix.uppercased() } }

    /// Checks an org-id and returns it in its written form (prefix upper case), or says what is wrong.
    /// `ownPrefix`: an identifier under the council's own prefix (for a group with no registered
    /// number, as 360Giving advises) is accepted as it is.
    public static func validate(_ text: String, ownPrefix: String? = nil) throws(LocalityError) -> String {
        let value = text.trimmingWhitespace()
        if let own = ownPrefix, !own.isEmpty, value.uppercased().hasPrefix(own.uppercased() + "-"), value.count > own.count + 1,
            TerminalText.firstUnsafe(in: value) == nil
        {
            return value
        }
        // The prefix is the longest register prefix the text starts with (GB-SC before GB-S…).
        let candidates = registers.filter { value.uppercased().hasPrefix($0.prefix + "-") }.sorted { $0.prefix.count > $1.prefix.count }
        guard let register = candidates.first else {
            let prefix = value.split(separator: "-").prefix(2).joined(separator: "-")
            throw LocalityError.invalidInput(
                "'\(TerminalText.safe(value))' is not an org-id from a register Locality knows: '\(TerminalText.safe(prefix))' is not one of "
                    + "the UK registers of org-id.guide (such as GB-CHC charities, GB-COH companies, GB-SC Scottish charities, GB-MPR mutuals)")
        }
        let identifier = String(value.dropFirst(register.prefix.count + 1))
        guard register.valid(identifier) else {
            throw LocalityError.invalidInput(
                "'\(TerminalText.safe(value))' is not a valid \(register.prefix) identifier: the \(register.name) gives \(register.format)")
        }
        return register.prefix + "-" + identifier
    }
}
