import Crypto
import Foundation

/// SHA-256 as lowercase hex, written by hand: Foundation's `String(format:)` is slow on Linux,
/// and this runs on every request (token hashes, ETags) and every audit or log entry.
enum SHA256Hex {
    static func of(_ text: String) -> String { of(Data(text.utf8)) }

    /// The digest's first `bytes` bytes (all 32 by default) as hex.
    static func of(_ data: some DataProtocol, bytes: Int = SHA256.byteCount) -> String {
        let digits = Array("0123456789abcdef".utf8)
        let digest = SHA256.hash(data: data)
        let count = min(bytes, SHA256.byteCount)
        return String(unsafeUninitializedCapacity: count * 2) { buffer in
            var index = 0
            for byte in digest.prefix(count) {
                buffer[index] = digits[Int(byte >> 4)]
                buffer[index + 1] = digits[Int(byte & 0x0F)]
                index += 2
            }
            return index
        }
    }
}
