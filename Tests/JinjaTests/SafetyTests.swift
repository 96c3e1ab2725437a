import Foundation
import SLMJinja
import XCTest

/// A template is data from a file: it gets no way out of the values passed in, and every rendering is bounded.
final class SafetyTests: XCTestCase {
    func render(_ source: String, _ vars: [String: Value] = [:], limits: RenderLimits = RenderLimits()) throws -> String {
        try Template(source).render(vars, limits: limits)
    }

    func error(_ source: String, _ vars: [String: Value] = [:], limits: RenderLimits = RenderLimits()) -> JinjaError? {
        do {
            _ = try render(source, vars, limits: limits)
            return nil
        } catch let e as JinjaError {
            return e
        } catch {
            return nil
        }
    }

    func testPythonInternalsAreRefused() {
        for source in ["{{ ''.__class__ }}", "{{ ''.__class__.__mro__[1].__subclasses__() }}", "{{ messages.__len__() }}",
                       "{{ namespace()._x }}", "{{ [].__class__ }}", "{{ cycler.__init__.__globals__ }}"] {
            let e = error(source, ["messages": .list([])])
            XCTAssertNotNil(e, source)
            XCTAssertEqual(e?.position?.line, 1, source)
        }
        XCTAssertEqual(error("{{ ''.__class__ }}")?.kind, .security)
        XCTAssertEqual(error("{% set x = [] %}{{ x.append(1) }}")?.kind, .security, "lists are immutable, as in Hugging Face's sandbox")
        XCTAssertEqual(error("{% set d = {} %}{{ d.update({'a': 1}) }}")?.kind, .security)
    }

    func testNoFileOrEnvironmentAccess() {
        for tag in ["{% include 'x' %}", "{% import 'x' as y %}", "{% extends 'base' %}", "{% from 'x' import y %}"] {
            XCTAssertEqual(error(tag)?.kind, .unsupported, tag)
        }
        XCTAssertEqual(try render("{{ environ is defined }}{{ os is defined }}{{ open is defined }}"), "FalseFalseFalse")
    }

    func testHugeRangeAndLoopsAreBounded() {
        XCTAssertEqual(error("{% for i in range(1000000000) %}x{% endfor %}")?.kind, .limit)
        XCTAssertEqual(error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")?.kind, .limit)
        var small = RenderLimits()
        small.maxIterations = 10
        XCTAssertEqual(error("{% for i in range(11) %}{% endfor %}", limits: small)?.kind, .limit)
        XCTAssertNoThrow(try render("{% for i in range(10) %}{% endfor %}", limits: small))
    }

    func testRecursionIsBounded() {
        let e = error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")
        XCTAssertEqual(e?.kind, .limit)
        XCTAssertEqual(e?.position?.line, 1)
        let deep = String(repeating: "(", count: 5000) + "1" + String(repeating: ")", count: 5000)
        XCTAssertEqual(error("{{ \(deep) }}")?.kind, .limit, "parser nesting is bounded too")
        let nested = String(repeating: "{% if true %}", count: 500) + String(repeating: "{% endif %}", count: 500)
        XCTAssertEqual(error(nested)?.kind, .limit)
    }

    func testOutputAndValueSizesAreBounded() {
        var small = RenderLimits()
        small.maxOutputBytes = 1000
        XCTAssertEqual(error("{% for i in range(2000) %}x{% endfor %}", limits: small)?.kind, .limit)
        XCTAssertEqual(error("{{ 'x' * 100000000000 }}")?.kind, .limit)
        XCTAssertEqual(error("{% set s = namespace(v='xxxxxxxxxx') %}{% for i in range(40) %}{% set s.v = s.v ~ s.v %}{% endfor %}")?.kind, .limit)
        XCTAssertEqual(error("{{ [1] * 100000000000 }}")?.kind, .limit)
        XCTAssertEqual(error("{{ 9223372036854775807 + 1 }}")?.kind, .limit, "integer overflow is an error, not a trap")
        XCTAssertEqual(error("{{ 2 ** 100 }}")?.kind, .limit)
    }

    func testContentHoldingTemplateSyntaxIsText() throws {
        let content = "{{ raise_exception('boom') }} {% for x in range(999999999) %}{% endfor %} {# c #}"
        let messages = Value.list([.dict(Dict([("role", .string("user")), ("content", .string(content))]))])
        let out = try render("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}", ["messages": messages])
        XCTAssertEqual(out, "<user>" + content)
    }

    func testErrorsNameLineAndColumn() {
        let e = error("line one\n{% if x %}\n  {{ 1 + }}\n{% endif %}")
        XCTAssertEqual(e?.kind, .syntax)
        XCTAssertEqual(e?.position, SourcePosition(line: 3, column: 10))
        XCTAssertEqual(e?.description, "template error at line 3, column 10: unexpected '}}'")
        let unclosed = error("a\n{% for m in messages %}\nb")
        XCTAssertEqual(unclosed?.kind, .syntax)
        XCTAssertTrue(unclosed?.description.contains("endfor") ?? false, unclosed?.description ?? "")
        let undefinedUse = error("\n\n   {{ missing.attr }}")
        XCTAssertEqual(undefinedUse?.position, SourcePosition(line: 3, column: 14))
        XCTAssertEqual(undefinedUse?.message, "'missing' is undefined")
        let raised = error("{{ raise_exception('Conversation roles must alternate') }}")
        XCTAssertEqual(raised?.kind, .raised)
        XCTAssertEqual(raised?.description, "template raised an exception at line 1, column 19: Conversation roles must alternate")
        XCTAssertEqual(error("{{ x | no_such_filter }}")?.description, "template error at line 1, column 6: no filter named 'no_such_filter'")
        XCTAssertEqual(error("{% frobnicate %}")?.description, "template error at line 1, column 4: unknown tag 'frobnicate'")
        XCTAssertEqual(error("{{ 'abc }}")?.kind, .syntax)
        XCTAssertEqual(error("{# never closed")?.kind, .syntax)
    }

    func testDeepRecursionOnASmallStackDoesNotCrash() throws {
        // The server renders on threads with small stacks: the depth bounds must hold there too.
        let done = expectation(description: "rendered")
        let thread = Thread {
            var limits = RenderLimits()
            limits.maxCallDepth = 64
            _ = try? Template("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").render([:], limits: limits)
            let deep = String(repeating: "[", count: 2000) + String(repeating: "]", count: 2000)
            _ = try? Template("{{ \(deep) }}").render([:])
            done.fulfill()
        }
        thread.stackSize = 512 << 10
        thread.start()
        wait(for: [done], timeout: 60)
    }

    func testExtremeIntegersAreErrorsOrValuesNeverTraps() throws {
        XCTAssertEqual(try render("{{ [1, 2, 3][1::9223372036854775807] }}"), "[2]")
        XCTAssertEqual(try render("{{ [1, 2, 3][::-9223372036854775807 - 1] }}"), "[3]")
        XCTAssertEqual(try render("{{ range(0, 10, -9223372036854775807 - 1) | length }}"), "0")
        XCTAssertEqual(error("{{ range(-9223372036854775807 - 1, 9223372036854775807, 9223372036854775807) }}")?.kind, .limit,
                       "a span past Int.max is refused, not trapped on")
        XCTAssertEqual(try render("{{ range(10, 0, -3) | list }}"), "[10, 7, 4, 1]")
        XCTAssertEqual(error("{{ range(-9223372036854775807 - 1, 9223372036854775807) }}")?.kind, .limit)
        XCTAssertEqual(error("{{ 'x' | center(100000000000) }}")?.kind, .limit)
        XCTAssertNotNil(error("{{ '{-1}'.format(1) }}"))
        XCTAssertEqual(error("{{ -(-9223372036854775807 - 1) }}")?.kind, .render)
        XCTAssertEqual(error("{{ (-9223372036854775807 - 1) // -1 }}")?.kind, .limit)
        XCTAssertEqual(error("{{ 99999999999999999999 }}")?.kind, .syntax)
    }

    func testTheDeepestAllowedTemplateRendersFromASmallStack() throws {
        // Macro recursion to the call-depth bound, each level inside nested blocks, started from a 512 KB thread.
        let nesting = 100
        let body = String(repeating: "{% if n >= 0 %}", count: nesting) + "{{ f(n + 1) if n < 60 else n }}" + String(repeating: "{% endif %}", count: nesting)
        let source = "{% macro f(n) %}" + body + "{% endmacro %}{{ f(0) }}"
        final class Output: @unchecked Sendable { var text: String? }
        let output = Output()
        let done = expectation(description: "rendered")
        let thread = Thread {
            output.text = try? Template(source).render([:])
            done.fulfill()
        }
        thread.stackSize = 512 << 10
        thread.start()
        wait(for: [done], timeout: 60)
        XCTAssertEqual(output.text, "60")
    }
}
