import LocalityCore
import Testing

/// Expects `body` to be refused with `code` (and, if given, a message containing `text`).
func refused(
    _ code: LocalityError.Code, containing text: String = "", sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    do {
        try body()
        Issue.record("expected \(code)", sourceLocation: sourceLocation)
    } catch let error as LocalityError {
        #expect(error.code == code, "\(error.message)", sourceLocation: sourceLocation)
        #expect(text.isEmpty || error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
    }
}
