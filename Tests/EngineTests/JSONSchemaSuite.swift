import Foundation
import XCTest
import SLMEngine
import TestSupport

/// The schema suite for generation tests (Tests/Fixtures/json-schemas.jsonl, one schema per line, shared with
/// Benchmarks/constrained-validity.py): every string and array bounded so that a complete value always fits in the
/// token limit the tests give (a valid answer must be complete, not cut by --max-tokens).
enum JSONSchemaSuite {
    static let schemas: [String] = {
        let url = TestPaths.fixtures.appendingPathComponent("json-schemas.jsonl")
        let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }()

    /// Validates each (schema, instance) with Python's `jsonschema` (Draft 2020-12, format checking on); returns one
    /// message per invalid pair. Throws XCTSkip when python3/jsonschema are missing outside CI.
    static func invalid(_ pairs: [(schema: String, instance: String)]) throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slm-jsonschema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("pairs.json")
        let list = pairs.map { ["schema": $0.schema, "instance": $0.instance] }
        try JSONSerialization.data(withJSONObject: list).write(to: input)
        let script = """
            import json, sys
            try:
                import jsonschema
            except ImportError:
                print("NOJSONSCHEMA"); sys.exit(3)
            bad = []
            for i, p in enumerate(json.load(open(sys.argv[1]))):
                try:
                    inst = json.loads(p["instance"])
                except Exception as e:
                    bad.append(f"{i}: not JSON ({e}): {p['instance']!r}"); continue
                schema = json.loads(p["schema"])
                v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
                errs = [e.message for e in v.iter_errors(inst)]
                if errs: bad.append(f"{i}: {errs[0]}: {p['instance']!r}")
            print(json.dumps(bad))
            """
        let proc = Process()
        proc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        proc.arguments = ["python3", "-c", script, input.path]
        let out = Pipe()
        proc.standardOutput = out
        proc.standardError = FileHandle.nullDevice
        do { try proc.run() } catch {
            if TestPaths.isCI { XCTFail("python3 not runnable: \(error)"); return [] }
            throw XCTSkip("python3 not available")
        }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        proc.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        if text.contains("NOJSONSCHEMA") {
            if TestPaths.isCI { XCTFail("python3 jsonschema package missing"); return [] }
            throw XCTSkip("python3 jsonschema package missing")
        }
        guard proc.terminationStatus == 0, let bad = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else {
            XCTFail("validator failed: \(text)")
            return []
        }
        return bad
    }

    static func engine(_ file: String) throws -> Engine {
        guard let path = TestPaths.model(file) else {
            if TestPaths.isCI { XCTFail("model \(file) missing under CI") }
            throw XCTSkip("model \(file) not in the store")
        }
        return try Engine(modelPath: path, threads: 2)
    }

    /// The answer after a reasoning section: the text after the close marker, less the newline the engine writes
    /// after its own close (the model's close is followed by the answer directly); nil without a close marker.
    static func answer(after text: String) -> String? {
        guard let close = text.range(of: "</think>") else { return nil }
        let rest = text[close.upperBound...]
        return String(rest.hasPrefix("\n") ? rest.dropFirst() : rest)
    }

    static func prompt(_ engine: Engine, _ text: String) -> [Int32] {
        engine.tokenizeChat((try? engine.renderChat([.user(text)])) ?? text)
    }
}
