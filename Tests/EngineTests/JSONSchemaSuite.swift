import Foundation
import XCTest
import SLMEngine
import TestSupport

/// The schema suite for generation tests: every string and array bounded so that a complete value always fits in
/// the token limit the tests give (a valid answer must be complete, not cut by --max-tokens).
enum JSONSchemaSuite {
    static let schemas: [String] = [
        #"{"type":"object","properties":{"name":{"type":"string","maxLength":20},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false}"#,
        #"{"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":99999},"email":{"type":"string","maxLength":30}},"required":["id","email"]},"active":{"type":"boolean"}},"required":["user","active"]}"#,
        #"{"type":"array","items":{"type":"integer","minimum":-100,"maximum":100},"minItems":2,"maxItems":4}"#,
        #"{"type":"object","properties":{"color":{"enum":["red","green","blue"]}},"required":["color"]}"#,
        #"{"type":"object","properties":{"price":{"type":"number"},"delta":{"type":"integer","minimum":-50,"maximum":-10}},"required":["price","delta"]}"#,
        #"{"type":"object","properties":{"nickname":{"type":["string","null"],"maxLength":10}},"required":["nickname"]}"#,
        #"{"anyOf":[{"type":"integer","minimum":0,"maximum":1000},{"type":"string","maxLength":8}]}"#,
        ##"{"$defs":{"point":{"type":"object","properties":{"x":{"type":"integer","minimum":-9,"maximum":9},"y":{"type":"integer","minimum":-9,"maximum":9}},"required":["x","y"]}},"type":"object","properties":{"from":{"$ref":"#/$defs/point"},"to":{"$ref":"#/$defs/point"}},"required":["from","to"]}"##,
        #"{"type":"object","properties":{"version":{"const":2},"kind":{"const":"report"},"ok":{"type":"boolean"}},"required":["version","kind","ok"]}"#,
        #"{"type":"array","prefixItems":[{"type":"string","maxLength":12},{"type":"integer","minimum":0,"maximum":99},{"type":"boolean"}],"items":false}"#,
        #"{"type":"object","properties":{"a":{"type":"integer","minimum":0,"maximum":9},"b":{"type":"string","maxLength":5}}}"#,
        #"{"allOf":[{"type":"object","properties":{"title":{"type":"string","maxLength":15}},"required":["title"]},{"properties":{"pages":{"type":"integer","minimum":1,"maximum":999}},"required":["pages"]}]}"#,
        #"{"oneOf":[{"type":"boolean"},{"type":"null"}]}"#,
        #"{"type":"object","properties":{"day":{"type":"string","format":"date"}},"required":["day"]}"#,
        #"{"type":"object","properties":{"id":{"type":"string","format":"uuid"}},"required":["id"]}"#,
        #"{"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{3}$"}},"required":["code"]}"#,
        #"{"type":["integer","boolean"],"minimum":-5,"maximum":5}"#,
        #"{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":9},"ok":{"type":"boolean"}},"required":["id","ok"]},"minItems":1,"maxItems":3}"#,
        #"{"type":"object","properties":{"word":{"type":"string","minLength":3,"maxLength":6}},"required":["word"]}"#,
        #"{"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":1000}"#,
        #"{"type":"array","items":{"type":"array","items":{"type":"boolean"},"maxItems":3},"maxItems":2}"#,
        #"{"type":"object","properties":{"answer":{"enum":[1,"two",null,true]}},"required":["answer"]}"#,
        ##"{"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer","minimum":0,"maximum":9},"next":{"anyOf":[{"type":"null"},{"type":"object","properties":{"v":{"type":"integer","minimum":0,"maximum":9}},"required":["v"]}]}},"required":["v","next"]}},"$ref":"#/$defs/node"}"##,
    ]

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

    static func prompt(_ engine: Engine, _ text: String) throws -> [Int32] {
        engine.tokenizeChat(try engine.renderChat([.user(text)]))
    }
}
