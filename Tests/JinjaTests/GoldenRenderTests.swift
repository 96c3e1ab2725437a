import Foundation
import SLMEngine
import SLMJinja
import TestSupport
import XCTest

/// Every template in Tests/Fixtures/chat-templates/templates (llama.cpp's models/templates and the template inside
/// SmolLM2's GGUF) over every conversation in conversations.json, against the renderings Python's jinja2 made with
/// Hugging Face's settings (tools/chat-template-goldens). A case where jinja2 raised must raise here too.
final class GoldenRenderTests: XCTestCase {
    static let root = TestPaths.fixtures.appendingPathComponent("chat-templates")
    /// The instant the goldens' strftime_now saw (tools/chat-template-goldens: NOW).
    static let now = 1752000000.0

    struct Outcome {
        var template: String
        var matched = 0
        var failures: [String] = []
    }

    static func json(_ url: URL) throws -> JSONValue {
        try JSONValue.parse(String(decoding: try Data(contentsOf: url), as: UTF8.self))
    }

    static func renderAll() throws -> [Outcome] {
        let conversations = try json(root.appendingPathComponent("conversations.json"))
        let toolsets = try json(root.appendingPathComponent("tools.json"))
        guard case .array(let convs) = conversations else { throw CocoaError(.fileReadCorruptFile) }
        let goldenDir = root.appendingPathComponent("goldens")
        var outcomes: [Outcome] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: goldenDir.path).sorted() where file.hasSuffix(".json") && file != "snippets.json" {
            let golden = try json(goldenDir.appendingPathComponent(file))
            guard case .string(let templateName)? = golden["template"], case .array(let cases)? = golden["cases"] else { continue }
            var outcome = Outcome(template: templateName)
            let source = String(decoding: try Data(contentsOf: root.appendingPathComponent("templates").appendingPathComponent(templateName)), as: UTF8.self)
            let template: Template
            do { template = try Template(source) } catch {
                outcome.failures.append("parse: \(error)")
                outcomes.append(outcome)
                continue
            }
            for (conv, expected) in zip(convs, cases) {
                guard case .string(let caseName)? = conv["name"] else { continue }
                var vars: [String: Value] = [
                    "messages": conv["messages"]?.templateValue ?? .list([]),
                    "tools": conv["tools"].flatMap { if case .string(let k) = $0 { return toolsets[k]?.templateValue } else { return nil } } ?? Value.none,
                    "documents": .none,
                    "add_generation_prompt": conv["add_generation_prompt"]?.templateValue ?? .bool(true),
                    "bos_token": .string("<s>"),
                    "eos_token": .string("</s>"),
                ]
                if case .object(let kv)? = conv["kwargs"] { for (k, v) in kv { vars[k] = v.templateValue } }
                let result: Result<String, JinjaError>
                do { result = .success(try template.render(vars, now: now)) } catch { result = .failure(error) }
                switch (result, expected["output"], expected["error"]) {
                case (.success(let got), .string(let want)?, _):
                    if got == want && got.utf8.elementsEqual(want.utf8) { outcome.matched += 1 } else {
                        outcome.failures.append("\(caseName): output differs at byte \(firstDifference(got, want)): got \(excerpt(got, firstDifference(got, want))) want \(excerpt(want, firstDifference(got, want)))")
                    }
                case (.failure(let e), _, .string(let err)?):
                    // raise_exception in jinja2 (TemplateError) must be raise_exception here, with the same message.
                    if err.hasPrefix("TemplateError: ") && (e.kind != .raised || "TemplateError: " + e.message != err) {
                        outcome.failures.append("\(caseName): jinja2 raised \(err), here \(e)")
                    } else {
                        outcome.matched += 1
                    }
                case (.failure(let e), _, _):
                    outcome.failures.append("\(caseName): \(e)")
                case (.success, _, .string(let err)?):
                    outcome.failures.append("\(caseName): rendered, but jinja2 raised \(err)")
                default:
                    outcome.failures.append("\(caseName): malformed golden")
                }
            }
            outcomes.append(outcome)
        }
        return outcomes
    }

    static func firstDifference(_ a: String, _ b: String) -> Int {
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0
        while i < min(x.count, y.count) && x[i] == y[i] { i += 1 }
        return i
    }

    static func excerpt(_ s: String, _ at: Int) -> String {
        let u = Array(s.utf8)
        let lo = max(0, at - 20), hi = min(u.count, at + 40)
        return String(decoding: u[lo..<hi], as: UTF8.self).debugDescription
    }

    func testEveryGoldenRendersIdentically() throws {
        let outcomes = try Self.renderAll()
        XCTAssertGreaterThanOrEqual(outcomes.count, 71, "70 llama.cpp templates and SmolLM2's")
        let identical = outcomes.filter { $0.failures.isEmpty }
        print("chat templates rendering identically to jinja2: \(identical.count) of \(outcomes.count); cases matched: \(outcomes.map(\.matched).reduce(0, +))")
        for o in outcomes where !o.failures.isEmpty {
            XCTFail("\(o.template): \(o.failures.count) case(s) differ; first: \(o.failures[0])")
        }
    }

    func testSnippetsRenderAsJinja2Does() throws {
        let golden = try Self.json(Self.root.appendingPathComponent("goldens/snippets.json"))
        guard case .array(let snippets)? = golden["snippets"] else { return XCTFail("no snippets") }
        XCTAssertGreaterThan(snippets.count, 10)
        for s in snippets {
            guard case .string(let source)? = s["template"] else { continue }
            do {
                let got = try Template(source).render([:])
                if case .string(let want)? = s["output"] { XCTAssertEqual(got, want, source) } else { XCTFail("rendered, jinja2 raised: \(source)") }
            } catch {
                if s["output"] != nil { XCTFail("\(source): \(error)") }
            }
        }
    }
}
