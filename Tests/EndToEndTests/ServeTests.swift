import Foundation
import TestSupport
import XCTest

/// `slm serve` over a real socket: started as users start it, driven by the official `openai` Python package and by
/// raw clients that disconnect, stopped by SIGTERM with requests in flight.
final class ServeTests: EndToEndTestCase {
    /// A running `slm serve`; its stderr is kept for the assertions.
    final class Server {
        let process = Process()
        private(set) var base = ""
        private let errPipe = Pipe()
        private let lock = NSLock()
        private let box = Box()

        init(_ args: [String]) throws {
            process.executableURL = SLM.binary
            process.arguments = ["serve", "--port", "0", "--threads", "2"] + args
            process.environment = SLM.environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errPipe
            let ready = DispatchSemaphore(value: 0)
            let found = box
            errPipe.fileHandleForReading.readabilityHandler = { [lock] h in
                let data = h.availableData
                guard !data.isEmpty else { h.readabilityHandler = nil; ready.signal(); return }
                let s = String(decoding: data, as: UTF8.self)
                lock.withLock { found.text += s }
                if let r = found.text.range(of: #"http://[0-9.]+:[0-9]+"#, options: .regularExpression), found.url == nil {
                    found.url = String(found.text[r])
                    ready.signal()
                }
            }
            try process.run()
            _ = ready.wait(timeout: .now() + 60)
            guard let url = found.url else {
                process.terminate()
                throw XCTSkip("server did not start: \(found.text)")
            }
            base = url
        }

        var stderr: String { lock.withLock { box.text } }

        /// Sends `sig` and waits for the exit status (nil: still running after `timeout`).
        func stop(_ sig: Int32 = SIGTERM, timeout: Double = 20) -> Int32? {
            kill(process.processIdentifier, sig)
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate(); return nil }
            // What the server wrote last (the handler may not have run for it yet).
            errPipe.fileHandleForReading.readabilityHandler = nil
            let rest = errPipe.fileHandleForReading.readDataToEndOfFile()
            lock.withLock { box.text += String(decoding: rest, as: UTF8.self) }
            return process.terminationStatus
        }

        deinit { if process.isRunning { process.terminate() } }
    }

    final class Box: @unchecked Sendable {
        var text = ""
        var url: String?
    }

    /// python3 with the packages the socket tests need (tools/test installs them; a developer's machine may not).
    func requirePython(_ modules: [String]) throws {
        let r = try runPython("import " + modules.joined(separator: ", "), args: [])
        if r.status != 0 {
            if TestPaths.isCI { XCTFail("python modules \(modules) missing: \(r.output)") }
            throw XCTSkip("python3 lacks \(modules); tools/test installs them")
        }
    }

    func runPython(_ code: String, args: [String], timeout: Double = 300) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", code] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testOpenAIClientAgainstServer() throws {
        try requirePython(["openai", "jsonschema"])
        let model = try requireSmolLM()
        let cache = try makeScratch()
        let server = try Server(["--model", model, "--parallel", "4", "--ctx", "1024", "--cache-dir", cache.path,
                                 "--api-key", "sk-test"])
        let script = TestPaths.packageRoot.appendingPathComponent("Tests/Scripts/openai_checks.py").path
        let r = try runPython("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                              args: [script, server.base + "/v1", "sk-test"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("all checks passed"), r.output)
        XCTAssertEqual(server.stop(), 0, server.stderr)
        // One log line per request.
        XCTAssertTrue(server.stderr.contains("POST /v1/chat/completions 200"), server.stderr)
        XCTAssertTrue(server.stderr.contains("POST /v1/chat/completions 400"), server.stderr)
    }

    /// A client that disconnects mid-stream frees its slot: with one slot, the next request starts at once instead of
    /// waiting for the abandoned 3,000-token answer.
    func testDisconnectedClientFreesItsSlot() throws {
        let model = try requireSmolLM()
        let server = try Server(["--model", model, "--parallel", "1", "--ctx", "4096", "--no-cache"])
        let code = #"""
import http.client, json, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
def conn(): return http.client.HTTPConnection(u.hostname, u.port, timeout=60)
c = conn()
c.request("POST", "/v1/completions", json.dumps({"prompt": "Count:", "max_tokens": 3000, "ignore_eos": True,
          "stream": True}), {"Content-Type": "application/json"})
sock = c.sock            # http.client lets go of it once a response says "Connection: close"
resp = c.getresponse()
resp.read1(64)           # the stream is running
import socket
sock.shutdown(socket.SHUT_RDWR)   # the client goes away (close alone keeps the descriptor open for resp)
sock.close()
t0 = time.time()
c2 = conn()
c2.request("POST", "/v1/completions", json.dumps({"prompt": "Hi", "max_tokens": 4, "ignore_eos": True}),
           {"Content-Type": "application/json"})
r2 = c2.getresponse()
body = json.loads(r2.read())
print(r2.status, body["usage"]["completion_tokens"], round(time.time() - t0, 2))
"""#
        let r = try runPython(code, args: [server.base])
        XCTAssertEqual(r.status, 0, r.output)
        let parts = r.output.split(whereSeparator: \.isWhitespace)
        XCTAssertEqual(parts.first, "200", r.output)
        XCTAssertEqual(parts.dropFirst().first, "4", r.output)
        // 3,000 tokens would take 10 s or more on this machine; a freed slot answers in well under that.
        XCTAssertLessThan(Double(parts.last ?? "99") ?? 99, 5, r.output)
        XCTAssertEqual(server.stop(), 0, server.stderr)
    }

    /// Hostile HTTP over a raw socket: each gets a 4xx with OpenAI's error object, and the server keeps serving.
    /// Prompt-lookup speculation in the server (on by default, while a request decodes alone) returns exactly the text
    /// a server without it returns, greedy and seeded; /metrics counts the drafts.
    func testSpeculativeServerAnswersAsWithout() throws {
        let model = try requireSmolLM()
        let code = #"""
import json, sys, urllib.request
base = sys.argv[1]
prompt = ("Repeat this list exactly, one item per line, each prefixed with '- ':\n"
          "apples, pears, plums, cherries, apricots, peaches, quinces, medlars, damsons, greengages")
out = []
for body in [{"temperature": 0}, {"temperature": 0.8, "seed": 4}]:
    body.update({"messages": [{"role": "user", "content": prompt}], "max_tokens": 60})
    req = urllib.request.Request(base + "/v1/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    out.append(json.load(urllib.request.urlopen(req, timeout=120))["choices"][0]["message"]["content"])
metrics = urllib.request.urlopen(base + "/metrics", timeout=30).read().decode()
drafted = [l for l in metrics.splitlines() if l.startswith("slm_drafted_tokens_total")]
print(json.dumps({"texts": out, "drafted": float(drafted[0].split()[-1]) if drafted else -1}))
"""#
        var results: [[String: Any]] = []
        for flags in [["--no-speculate"], []] {
            let server = try Server(["--model", model, "--parallel", "2", "--ctx", "1024", "--no-cache"] + flags)
            let r = try runPython(code, args: [server.base])
            XCTAssertEqual(r.status, 0, r.output)
            let line = try XCTUnwrap(r.output.split(separator: "\n").last.map(String.init))
            results.append(try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
            XCTAssertEqual(server.stop(), 0)
        }
        XCTAssertEqual(results[0]["texts"] as? [String], results[1]["texts"] as? [String])
        XCTAssertEqual(results[0]["drafted"] as? Double, 0)
        XCTAssertGreaterThan(try XCTUnwrap(results[1]["drafted"] as? Double), 0, "a list to repeat drafts")
    }

    func testMalformedHTTPGetsErrorObjectsAndServerKeepsServing() throws {
        let model = try requireSmolLM()
        let server = try Server(["--model", model, "--parallel", "1", "--ctx", "512", "--no-cache"])
        let code = #"""
import json, socket, sys, time, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
def exchange(data, wait=10):
    s = socket.create_connection((u.hostname, u.port), timeout=wait)
    s.sendall(data)
    out = b""
    t0 = time.time()
    try:
        while True:
            b = s.recv(65536)
            if not b: break
            out += b
            if b"\r\n\r\n" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                n = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
                if n and len(body) >= n[0]: break
    except socket.timeout:
        pass
    s.close()
    head, _, body = out.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1]) if head else 0
    err = json.loads(body).get("error") if body.strip() else None
    return status, err, round(time.time() - t0, 2)
results = {}
results["header"] = exchange(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 200000 + b"\r\n\r\n")
results["garbage"] = exchange(b"\x00\x01 NOT HTTP AT ALL\r\n\r\n")
results["chunked"] = exchange(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                              b"Transfer-Encoding: chunked\r\n\r\nZZZ\r\n{}\r\n0\r\n\r\n")
results["declared"] = exchange(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 1000000000000\r\n\r\n{")
body = b'{"prompt": "Hi", "max_tokens": 2, "seed": 1}'
results["ok"] = exchange(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body, wait=60)
print(json.dumps(results))
"""#
        let r = try runPython(code, args: [server.base])
        XCTAssertEqual(r.status, 0, r.output)
        let results = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: [Any]], r.output)
        func check(_ name: String, _ status: Int) {
            let row = results[name] ?? []
            XCTAssertEqual(row.first as? Int, status, "\(name): \(r.output)")
            if status >= 400 {
                let err = row.count > 1 ? row[1] as? [String: Any] : nil
                XCTAssertEqual(err?["type"] as? String, "invalid_request_error", "\(name): \(r.output)")
                XCTAssertFalse((err?["message"] as? String ?? "").isEmpty, "\(name): \(r.output)")
            }
        }
        check("header", 431)
        check("garbage", 400)
        check("chunked", 400)
        check("declared", 413)
        // The 413 comes from the declared length, without waiting for a body that never arrives.
        XCTAssertLessThan((results["declared"]?.last as? Double) ?? 99, 5, r.output)
        check("ok", 200)
        XCTAssertEqual(server.stop(), 0, server.stderr)
    }

    /// Many clients sending a random mix of valid, constrained, dropped and hostile requests for 30 s
    /// (Benchmarks/serve-soak.py) get no 5xx, and the server still answers and exits 0 afterwards. Eight slots and a
    /// 512-position context keep newcomers prefilling beside running decodes and answers running into the context.
    func testMixedLoadKeepsServing() throws {
        let model = try requireSmolLM()
        let cache = try makeScratch()
        let server = try Server(["--model", model, "--parallel", "8", "--ctx", "512", "--cache-dir", cache.path])
        let port = try XCTUnwrap(server.base.split(separator: ":").last.map(String.init))
        let script = TestPaths.packageRoot.appendingPathComponent("Benchmarks/serve-soak.py").path
        let r = try runPython("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')",
                              args: [script, "--port", port, "--seconds", "30", "--clients", "10"])
        XCTAssertEqual(r.status, 0, r.output)
        XCTAssertTrue(r.output.contains("server alive, /health 200, 0 failures"), r.output)
        XCTAssertTrue(r.output.contains("stream     200"), r.output)
        XCTAssertTrue(r.output.contains("hostile    400"), r.output)
        XCTAssertEqual(server.stop(), 0, server.stderr)
    }

    /// SIGTERM with requests in flight: the running answer completes (or is cut at the grace period), the process
    /// exits 0, and the next server trusts the prefix cache the first one wrote.
    func testSIGTERMWithRequestInFlightExitsCleanlyAndKeepsTheCache() throws {
        let model = try requireSmolLM()
        let cache = try makeScratch()
        let system = String(repeating: "You answer questions about the solar system with care and precision. ", count: 12)
        let request = #"""
import http.client, json, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
c = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
body = {"messages": [{"role": "system", "content": sys.argv[2]}, {"role": "user", "content": sys.argv[3]}],
        "max_tokens": int(sys.argv[4]), "stream": sys.argv[5] == "1", "seed": 1}
c.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
r = c.getresponse()
if sys.argv[5] == "1":
    first = r.read1(64)
    print("streaming", flush=True)
    data = (first + r.read()).decode()
    print(r.status, "[DONE]" in data)
else:
    data = r.read().decode()
    print(r.status, json.loads(data)["usage"]["prompt_tokens_details"]["cached_tokens"])
"""#
        let first = try Server(["--model", model, "--parallel", "2", "--ctx", "2048", "--cache-dir", cache.path])
        // Warm: one short request stores the system prompt's blocks.
        let warm = try runPython(request, args: [first.base, system, "What is Mars?", "4", "0"])
        XCTAssertTrue(warm.output.hasPrefix("200 0"), warm.output)
        // A long streamed answer is in flight when SIGTERM arrives.
        let inflight = Process()
        inflight.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        inflight.arguments = ["python3", "-c", request, first.base, system, "Tell me everything about Jupiter.", "400", "1"]
        let out = Pipe()
        inflight.standardOutput = out
        try inflight.run()
        var streamed = ""
        let deadline = Date().addingTimeInterval(60)
        while !streamed.contains("streaming") && Date() < deadline {
            streamed += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        XCTAssertEqual(first.stop(SIGTERM, timeout: 15), 0, first.stderr)
        inflight.waitUntilExit()
        streamed += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(streamed.contains("streaming\n200"), streamed)
        XCTAssertTrue(first.stderr.contains("stopping"), first.stderr)
        // The next start restores the system prompt from the disk tier.
        let second = try Server(["--model", model, "--parallel", "2", "--ctx", "2048", "--cache-dir", cache.path])
        let again = try runPython(request, args: [second.base, system, "What is Venus?", "4", "0"])
        let cached = Int(again.output.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        XCTAssertTrue(again.output.hasPrefix("200"), again.output)
        XCTAssertGreaterThanOrEqual(cached, 96, again.output)  // the system prompt's whole blocks
        XCTAssertFalse(second.stderr.contains("skipping"), second.stderr)
        XCTAssertEqual(second.stop(SIGINT), 0, second.stderr)
    }
}
