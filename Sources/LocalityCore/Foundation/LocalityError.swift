/// An error a person can read, with a stable code a program can match on.
///
/// The same type travels over the wire (issue: sync), so the terminal client can print the server's
/// reason exactly as the server wrote it.
public struct LocalityError: Error, Codable, Hashable, Sendable, CustomStringConvertible {
    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Stable, machine-readable error codes. A struct rather than an enum so codes can be added
    /// without breaking clients that switch over the ones they know.
    public struct Code: RawRepresentable, Codable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The input is malformed: not a sum of money, an empty title, a severity out of range…
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// A reference (id, slug, GSS code) names nothing, or more than one thing.
        public static let notFound = Code(rawValue: "not_found")
        public static let ambiguous = Code(rawValue: "ambiguous_reference")
        /// The acting person's roles do not allow this.
        public static let forbidden = Code(rawValue: "forbidden")
        /// The record's current status does not allow this change.
        public static let invalidTransition = Code(rawValue: "invalid_transition")
        /// Approving would commit more than the budget has available: the message says by how much.
        public static let insufficientFunds = Code(rawValue: "insufficient_funds")
        /// A payment would take an award past what was committed for it.
        public static let exceedsCommitment = Code(rawValue: "exceeds_commitment")
        /// A ballot's voter reference (or its paper's serial) has already been counted in that vote.
        public static let alreadyVoted = Code(rawValue: "already_voted")
        /// The replica is not in a state to do this (not initialised, already initialised…).
        public static let replicaState = Code(rawValue: "replica_state")
        /// A vote's count needs more work than a count may take (see `CountLimit`).
        public static let countLimit = Code(rawValue: "count_limit")
        /// A mutation name this version does not know.
        public static let unknownMutation = Code(rawValue: "unknown_mutation")
    }

    static func invalid(_ message: String) -> LocalityError { LocalityError(.invalidInput, message) }
    public static func invalidInput(_ message: String) -> LocalityError { LocalityError(.invalidInput, message) }
    public static func forbidden(_ message: String) -> LocalityError { LocalityError(.forbidden, message) }
    public static func notFound(_ message: String) -> LocalityError { LocalityError(.notFound, message) }
}
