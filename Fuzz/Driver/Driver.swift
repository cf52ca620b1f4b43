import Foundation
import LocalityFuzzTargets

// Built by `scripts/fuzz.sh` with `-sanitize=fuzzer,address -D LOCALITY_LIBFUZZER`: libFuzzer
// supplies `main` and calls this for every input it makes; the target is named by
// LOCALITY_FUZZ_TARGET. Built plainly (`swift build`), the same program replays files through a
// target, so a corpus or a crash file can be run under a debugger without the fuzzer.

#if LOCALITY_LIBFUZZER
private let target: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["LOCALITY_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("set LOCALITY_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

// SwiftPM links an executable's `main` to `locality_fuzz_main`, so libFuzzer's own `main` is not
// used: this one hands over to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

@_cdecl("locality_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return runDriver(&argc, &argv, fuzzOne)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    do {
        try target.run(bytes)
    } catch {
        fatalError("\(target.rawValue): \(error)")
    }
    return 0
}
#else
@main
enum Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.isEmpty || arguments.contains("--help") || arguments.contains("-h") {
            print("""
                USAGE: locality-fuzz <target> <file-or-directory>...

                Runs each file (every file of a directory) through a fuzz target once and says which
                inputs break a property. To fuzz, use scripts/fuzz.sh, which builds this program with
                libFuzzer and the address sanitizer.

                TARGETS:
                """)
            for target in FuzzTarget.allCases { print("  \(target.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0)) \(target.summary)") }
            exit(arguments.isEmpty ? 2 : 0)
        }
        guard let target = FuzzTarget(rawValue: arguments[0]) else {
            FileHandle.standardError.write(Data("error: no fuzz target '\(arguments[0])'; choose from \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        var files: [URL] = []
        for path in arguments.dropFirst() {
            let url = URL(fileURLWithPath: path)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                FileHandle.standardError.write(Data("error: no such file or directory: \(path)\n".utf8))
                exit(2)
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.sorted().map { url.appendingPathComponent($0) }
            } else {
                files.append(url)
            }
        }
        var failures = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file.path) else { continue }
            do {
                try target.run(Array(data))
            } catch {
                failures += 1
                print("FAIL \(file.path): \(error)")
            }
        }
        print("\(target.rawValue): \(files.count) input\(files.count == 1 ? "" : "s"), \(failures) failing")
        exit(failures == 0 ? 0 : 1)
    }
}
#endif
