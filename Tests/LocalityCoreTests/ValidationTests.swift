import Foundation
import Testing

@testable import LocalityCore

@Suite("Validation of what people type: the short way for plain ASCII decides as the long way does")
struct ValidationTests {
    @Test func titlesAreTrimmedCountedInCharactersAndOneLine() throws {
        #expect(try Validate.title("  Potholes on the school run\t") == "Potholes on the school run")
        #expect(try Validate.title(String(repeating: "a", count: 200)).count == 200)
        #expect(throws: LocalityError.self) { try Validate.title(String(repeating: "a", count: 201)) }
        #expect(throws: LocalityError.self) { try Validate.title("two\nlines") }
        #expect(throws: LocalityError.self) { try Validate.title("two\r\nlines") }
        #expect(throws: LocalityError.self) { try Validate.title("   ") }
        // 200 characters of two bytes each, and 200 of an e with a combining accent: characters, not bytes.
        #expect(try Validate.title(String(repeating: "é", count: 200)).count == 200)
        #expect(try Validate.title(String(repeating: "e\u{301}", count: 200)).count == 200)
        #expect(throws: LocalityError.self) { try Validate.title(String(repeating: "é", count: 201)) }
        #expect(throws: LocalityError.self) { try Validate.title("line\u{2028}separator") }
    }

    @Test func whitespaceIsTrimmedWhateverItIs() {
        #expect("plain".trimmingWhitespace() == "plain")
        #expect(" padded ".trimmingWhitespace() == "padded")
        #expect("\u{00A0}non-breaking\u{3000}".trimmingWhitespace() == "non-breaking")
        #expect("ends in a newline\n".trimmingWhitespace() == "ends in a newline")
        #expect("e\u{301}".trimmingWhitespace() == "e\u{301}")
        #expect("".trimmingWhitespace() == "")
        #expect(" ".trimmingWhitespace() == "")
    }

    @Test func freeTextIsBoundedInCharacters() throws {
        #expect(try Validate.text(" a note ", field: "description") == "a note")
        #expect(try Validate.text(String(repeating: "é", count: 20_000), field: "description").count == 20_000)
        #expect(throws: LocalityError.self) { try Validate.text(String(repeating: "a", count: 20_001), field: "description") }
        #expect(throws: LocalityError.self) { try Validate.text(String(repeating: "é", count: 20_001), field: "description") }
    }
}
