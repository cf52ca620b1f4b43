import CZlib

/// gzip (RFC 1952) through the system's zlib: large pulls are mostly repeated column names and
/// ids, and shrink several-fold.
public enum Gzip {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Compresses `bytes` at a level that favours speed: the server does this for every large page.
    public static func compress(_ bytes: [UInt8], level: Int32 = 1) throws -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 16: a gzip header and trailer rather than a bare zlib stream.
        guard deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw Failure(description: "zlib could not start compressing") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
        var input = bytes
        let status = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { throw Failure(description: "zlib could not compress (status \(status))") }
        output.removeSubrange(Int(stream.total_out)...)
        return output
    }

    /// Decompresses a gzip stream, refusing to grow past `limit` bytes.
    public static func decompress(_ bytes: [UInt8], limit: Int = 256 << 20) throws -> [UInt8] {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "zlib could not start decompressing")
        }
        defer { inflateEnd(&stream) }
        var input = bytes
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = UInt32(inputBuffer.count)
            while status != Z_STREAM_END {
                status = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = UInt32(chunkBuffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw Failure(description: "not a valid gzip stream (zlib status \(status))")
                }
                result.append(contentsOf: chunk[0..<(chunk.count - Int(stream.avail_out))])
                guard result.count <= limit else { throw Failure(description: "decompresses to more than \(limit) bytes") }
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 {
                    throw Failure(description: "the gzip stream is truncated")
                }
            }
        }
        return result
    }
}
