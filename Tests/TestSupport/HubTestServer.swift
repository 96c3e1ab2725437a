import Foundation

/// Tests/Fixtures/http-test-server.py on a free loopback port: a Hugging Face-like hub (file listings with sizes and
/// SHA-256, `resolve/main` downloads with Range) whose next answers can drop the connection, stall or trickle, for
/// testing `slm pull` without a network. Everything lives in a temporary directory removed with the server.
public final class HubTestServer {
    public let root: URL
    public let port: Int
    private let process = Process()
    private let logURL: URL

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("slm-hub-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        logURL = root.appendingPathComponent("requests.log")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", TestPaths.fixtures.appendingPathComponent("http-test-server.py").path,
                             root.path, logURL.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        var found: Int?
        while found == nil {
            let data = pipe.fileHandleForReading.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
            if let r = text.range(of: "PORT "), let n = Int(text[r.upperBound...].prefix { $0.isNumber }) { found = n }
        }
        guard let found else {
            process.terminate()
            throw NSError(domain: "HubTestServer", code: 1, userInfo: [NSLocalizedDescriptionKey: "server did not start: \(text)"])
        }
        port = found
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: root)
    }

    /// One file of a repository: its bytes come from `source` (linked, not copied); `size` and `sha256` are what the
    /// listing claims (nil: left out).
    public struct File {
        public var name: String
        public var source: URL
        public var size: Int?
        public var sha256: String?
        public init(name: String, source: URL, size: Int?, sha256: String?) {
            self.name = name
            self.source = source
            self.size = size
            self.sha256 = sha256
        }
    }

    /// Publishes `repo` ("ORG/REPO") with these files (replacing an earlier listing of it).
    public func publish(_ repo: String, _ files: [File]) throws {
        let dir = root.appendingPathComponent(repo)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for f in files {
            let link = dir.appendingPathComponent(f.name)
            try? FileManager.default.removeItem(at: link)
            try FileManager.default.createSymbolicLink(at: link, withDestinationURL: f.source)
        }
        let apiURL = root.appendingPathComponent("api.json")
        var api = (try? JSONSerialization.jsonObject(with: Data(contentsOf: apiURL)) as? [String: Any]) ?? [:]
        api[repo] = files.map { f -> [String: Any] in
            var e: [String: Any] = ["rfilename": f.name]
            if let s = f.size { e["size"] = s }
            if let h = f.sha256 { e["sha256"] = h }
            return e
        }
        try JSONSerialization.data(withJSONObject: api).write(to: apiURL)
    }

    /// The behaviour of the next requests (see the script): "drop_after", "stall_after", "chunk_delay", "ignore_range".
    public func control(_ settings: [String: Any]) throws {
        try JSONSerialization.data(withJSONObject: settings).write(to: root.appendingPathComponent("control.json"))
    }

    /// "GET PATH RANGE" for every request so far.
    public var requests: [String] {
        ((try? String(contentsOf: logURL, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }
}
