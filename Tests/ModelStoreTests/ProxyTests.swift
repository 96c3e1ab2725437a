import Foundation
import TestSupport
import XCTest

@testable import ModelStore

/// Downloads honour http_proxy / https_proxy / no_proxy as curl and pip do: the setting read from the environment,
/// and a transfer through a real CONNECT proxy on loopback (a few lines of Python that log what they relay).
final class ProxyTests: XCTestCase {
    func proxy(_ url: String, _ env: [String: String]) throws -> ProxySetting? {
        try ProxySetting.forURL(URL(string: url)!, environment: env)
    }

    func testSettingFromTheEnvironment() throws {
        XCTAssertNil(try proxy("https://huggingface.co/x", [:]))
        XCTAssertEqual(try proxy("https://huggingface.co/x", ["https_proxy": "http://p.corp:3128"]),
                       ProxySetting(host: "p.corp", port: 3128, user: nil, password: nil))
        // The upper-case name too, no scheme, the default port, credentials percent-decoded.
        XCTAssertEqual(try proxy("https://hf.co/x", ["HTTPS_PROXY": "u%40x:p%3Aw@p.corp"]),
                       ProxySetting(host: "p.corp", port: 80, user: "u@x", password: "p:w"))
        // http URLs use http_proxy only.
        XCTAssertNil(try proxy("http://mirror.local/x", ["https_proxy": "http://p:1"]))
        XCTAssertEqual(try proxy("http://mirror.local/x", ["http_proxy": "p:8080"])?.port, 8080)
        // no_proxy: the host, its subdomains, a leading dot, '*'; not a mere suffix of the name.
        let env = ["https_proxy": "http://p:1", "no_proxy": "localhost, .internal.example,hf.co"]
        XCTAssertNil(try proxy("https://hf.co/x", env))
        XCTAssertNil(try proxy("https://cdn.hf.co/x", env))
        XCTAssertNil(try proxy("https://a.internal.example/x", env))
        XCTAssertNotNil(try proxy("https://nothf.co/x", env))
        XCTAssertNil(try proxy("https://anything/x", ["https_proxy": "http://p:1", "NO_PROXY": "*"]))
        // A setting that cannot be read is an error naming the variable.
        for bad in ["socks5://p:1080", "http://:80", "http://p:99999"] {
            XCTAssertThrowsError(try proxy("https://hf.co/x", ["https_proxy": bad])) { error in
                XCTAssertTrue("\(error)".contains("https_proxy"), "\(error)")
            }
        }
    }

    func testDownloadThroughAConnectProxy() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("slm-proxy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let payload = Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        try payload.write(to: dir.appendingPathComponent("model.gguf"))
        let log = dir.appendingPathComponent("proxy.log")
        // A static file server and a CONNECT proxy, each printing its port.
        let script = #"""
import http.server, socket, socketserver, sys, threading, functools
root, log = sys.argv[1], sys.argv[2]
files = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=root))
threading.Thread(target=files.serve_forever, daemon=True).start()
class Proxy(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().decode()
        while self.rfile.readline() not in (b"\r\n", b"\n", b""): pass
        method, target, _ = line.split(" ", 2)
        with open(log, "a") as f: f.write(method + " " + target + "\n")
        host, port = target.rsplit(":", 1)
        up = socket.create_connection((host, int(port)))
        self.wfile.write(b"HTTP/1.1 200 Connection established\r\n\r\n"); self.wfile.flush()
        def pump(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d: break
                    b.sendall(d)
            except OSError: pass
            finally:
                try: b.shutdown(socket.SHUT_WR)
                except OSError: pass
        t = threading.Thread(target=pump, args=(up, self.connection), daemon=True); t.start()
        pump(self.connection, up); t.join()
class Server(socketserver.ThreadingTCPServer): daemon_threads = True; allow_reuse_address = True
proxy = Server(("127.0.0.1", 0), Proxy)
print(files.server_address[1], proxy.server_address[1], flush=True)
proxy.serve_forever()
"""#
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script, dir.path, log.path]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { p.terminate() }
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        let ports = line.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int($0) }
        guard ports.count == 2 else { throw XCTSkip("python3 servers did not start: \(line)") }

        let names = ["http_proxy", "HTTP_PROXY", "no_proxy", "NO_PROXY"]
        let saved: [(String, String?)] = names.map { name in (name, ProcessInfo.processInfo.environment[name]) }
        defer { for (k, v) in saved { if let v { setenv(k, v, 1) } else { unsetenv(k) } } }
        for (k, _) in saved { unsetenv(k) }
        setenv("http_proxy", "http://127.0.0.1:\(ports[1])", 1)

        let dest = dir.appendingPathComponent("got.partial")
        try downloadURL(URL(string: "http://127.0.0.1:\(ports[0])/model.gguf")!, to: dest, maxBytes: 1 << 20,
                        timeout: 10, progress: SilentProgress())
        XCTAssertEqual(try Data(contentsOf: dest), payload)
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "CONNECT 127.0.0.1:\(ports[0])\n")

        // Listed in no_proxy: straight to the server, the proxy sees nothing more.
        setenv("no_proxy", "127.0.0.1", 1)
        try FileManager.default.removeItem(at: dest)
        try downloadURL(URL(string: "http://127.0.0.1:\(ports[0])/model.gguf")!, to: dest, maxBytes: 1 << 20,
                        timeout: 10, progress: SilentProgress())
        XCTAssertEqual(try Data(contentsOf: dest), payload)
        XCTAssertEqual(try String(contentsOf: log, encoding: .utf8), "CONNECT 127.0.0.1:\(ports[0])\n")
    }
}
