import Foundation

/// A model named by where it lives rather than by a built-in name: a Hugging Face repository with a quantization
/// (`hf.co/ORG/REPO:QUANT`, Ollama's form) or a file (`ORG/REPO FILE`), or a URL of a GGUF file.
public enum HubReference: Equatable, Sendable {
    case hub(org: String, repo: String, quant: String?, file: String?)
    case url(String)

    /// `hf.co/ORG/REPO[:QUANT]`, `huggingface.co/ORG/REPO[:QUANT]` (with or without `https://`), or another
    /// `http(s)://` URL; nil for anything else.
    public init?(_ text: String) {
        var t = text
        for scheme in ["https://", "http://"] where t.lowercased().hasPrefix(scheme) { t.removeFirst(scheme.count) }
        let lower = t.lowercased()
        for host in ["hf.co/", "huggingface.co/"] where lower.hasPrefix(host) {
            let rest = t.dropFirst(host.count)
            let parts = rest.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let path = parts[0].split(separator: "/", omittingEmptySubsequences: false)
            // hf.co/ORG/REPO only: a longer path (.../resolve/main/x.gguf) is a plain URL.
            if path.count == 2, Self.isName(path[0]), Self.isName(path[1]) {
                let quant = parts.count == 2 ? String(parts[1]) : nil
                if let q = quant, !Self.isName(Substring(q)) { return nil }
                self = .hub(org: String(path[0]), repo: String(path[1]), quant: quant, file: nil)
                return
            }
        }
        guard text.lowercased().hasPrefix("https://") || text.lowercased().hasPrefix("http://"),
              let url = URL(string: text), url.host != nil, isPlainFileName(url.lastPathComponent)
        else { return nil }
        self = .url(text)
    }

    /// `ORG/REPO` and a file in it (`slm pull ORG/REPO FILE`); nil when either is malformed.
    public static func repository(_ repo: String, file: String) -> HubReference? {
        let path = repo.split(separator: "/", omittingEmptySubsequences: false)
        guard path.count == 2, isName(path[0]), isName(path[1]), !file.isEmpty, !file.hasPrefix("/"),
              !file.split(separator: "/").contains("..") else { return nil }
        return .hub(org: String(path[0]), repo: String(path[1]), quant: nil, file: file)
    }

    /// The name recorded for the pulled file, by which `--model` finds it again.
    public var name: String {
        switch self {
        case .hub(let org, let repo, let quant, let file):
            if let file { return "hf.co/\(org)/\(repo)/\(file)" }
            return "hf.co/\(org)/\(repo)" + (quant.map { ":" + $0 } ?? "")
        case .url(let u): return u
        }
    }

    /// Hugging Face's names: letters, digits, `-`, `_`, `.`, not `.` or `..`.
    static func isName(_ s: Substring) -> Bool {
        !s.isEmpty && s != "." && s != ".." && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}

extension ModelStore {
    /// What to fetch for `reference`. For a hub repository this asks the hub's API for the repository's files
    /// (`/api/models/ORG/REPO?blobs=true`), picks the GGUF file (by name, by quantization, or the only one, or
    /// Q4_K_M as Ollama does) and takes its size and SHA-256 from the hub's LFS record.
    public func target(for reference: HubReference, progress: ProgressSink) throws(ModelStoreError) -> PullTarget {
        switch reference {
        case .url(let text):
            let file = URL(string: text)?.lastPathComponent ?? ""
            guard isPlainFileName(file) else { throw .hub(reference: text, reason: "the URL does not end in a file name") }
            return PullTarget(name: text, file: file, size: nil, sha256: nil, sources: [.url(text)], names: [text])
        case .hub(let org, let repo, let quant, let file):
            let files = try hubFiles(org: org, repo: repo, reference: reference.name, progress: progress)
            let chosen = try chooseFile(files, quant: quant, file: file, reference: reference.name)
            let storeName = String(chosen.path.split(separator: "/").last ?? "")
            guard isPlainFileName(storeName) else { throw .hub(reference: reference.name, reason: "bad file name '\(chosen.path)'") }
            let encoded = chosen.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? chosen.path
            var names = [reference.name]
            if let q = quant, file == nil { names.append("hf.co/\(org)/\(repo):\(q.uppercased())") }
            return PullTarget(
                name: reference.name, file: storeName, size: chosen.size, sha256: chosen.sha256,
                sources: [.url("\(hubEndpoint)/\(org)/\(repo)/resolve/main/\(encoded)")], names: mergedNames(names, []))
        }
    }

    struct HubFile: Equatable {
        var path: String
        var size: Int?
        var sha256: String?
    }

    /// The repository's files from the hub's API.
    func hubFiles(org: String, repo: String, reference: String, progress: ProgressSink) throws(ModelStoreError) -> [HubFile] {
        try makeDirectories(modelsDirectory.path, what: "the model store")
        let temp = modelsDirectory.appendingPathComponent(".api-\(org)-\(repo)-\(getpid()).json")
        defer { unlink(temp.path) }
        guard let url = URL(string: "\(hubEndpoint)/api/models/\(org)/\(repo)?blobs=true") else {
            throw .hub(reference: reference, reason: "bad endpoint '\(hubEndpoint)'")
        }
        progress.message("asking \(hubEndpoint) for the files of \(org)/\(repo)")
        do {
            try downloadURL(url, to: temp, maxBytes: 32 << 20, timeout: timeout, progress: SilentProgress())
        } catch {
            if error.reason.hasSuffix("status 404") { throw .hub(reference: reference, reason: "no such repository (HTTP status 404)") }
            if error.reason.hasSuffix("status 401") || error.reason.hasSuffix("status 403") {
                throw .hub(reference: reference, reason: "the repository is private or gated (\(error.reason))")
            }
            throw .hub(reference: reference, reason: error.reason)
        }
        guard let data = FileManager.default.contents(atPath: temp.path),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let siblings = root["siblings"] as? [[String: Any]]
        else { throw .hub(reference: reference, reason: "the hub's answer has no file list") }
        return siblings.compactMap { s in
            guard let path = s["rfilename"] as? String else { return nil }
            let lfs = s["lfs"] as? [String: Any]
            let size = (lfs?["size"] as? Int) ?? (s["size"] as? Int)
            let sha = (lfs?["sha256"] as? String).flatMap { isSHA256Hex($0) ? $0.lowercased() : nil }
            return HubFile(path: path, size: size, sha256: sha)
        }
    }

    /// The GGUF file a reference means: the named file; else the one whose name carries the quantization (`Q4_K_M`
    /// in `model-Q4_K_M.gguf`, not in `model-Q4_K_M_L.gguf`); else the only GGUF file, or the Q4_K_M one.
    func chooseFile(_ files: [HubFile], quant: String?, file: String?, reference: String) throws(ModelStoreError) -> HubFile {
        let ggufs = files.filter { $0.path.lowercased().hasSuffix(".gguf") }
        let listing = ggufs.prefix(24).map(\.path).joined(separator: ", ") + (ggufs.count > 24 ? ", ..." : "")
        if let file {
            guard let f = files.first(where: { $0.path == file }) ?? files.first(where: { $0.path.split(separator: "/").last.map(String.init) == file })
            else { throw .hub(reference: reference, reason: "no file '\(file)' in the repository (GGUF files: \(listing.isEmpty ? "none" : listing))") }
            return f
        }
        guard !ggufs.isEmpty else { throw .hub(reference: reference, reason: "the repository has no GGUF file") }
        let q = quant ?? (ggufs.count == 1 ? nil : "Q4_K_M")
        guard let q else { return ggufs[0] }
        let matches = ggufs.filter { namesQuantization($0.path, q) }
        if matches.count == 1 { return matches[0] }
        if matches.count > 1 {
            throw .hub(reference: reference, reason: "\(matches.count) files match \(q) (\(matches.map(\.path).joined(separator: ", "))); name one: slm pull ORG/REPO FILE")
        }
        if quant != nil { throw .hub(reference: reference, reason: "no file for quantization \(q) (GGUF files: \(listing))") }
        throw .hub(reference: reference, reason: "no quantization given and no Q4_K_M file (GGUF files: \(listing)); name one with :QUANT, e.g. \(reference):Q8_0")
    }
}

/// Whether a file name carries `quant` as a whole label: not inside a longer alphanumeric run, and not followed by
/// `_` (`Q4_K` is not in `x-Q4_K_M.gguf`; `Q4_K_M` is in `x_Q4_K_M.gguf`).
func namesQuantization(_ path: String, _ quant: String) -> Bool {
    let name = Array((path.split(separator: "/").last.map(String.init) ?? path).uppercased().utf8)
    let q = Array(quant.uppercased().utf8)
    guard !q.isEmpty, name.count >= q.count else { return false }
    func isAlnum(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) }
    for i in 0...(name.count - q.count) where Array(name[i..<(i + q.count)]) == q {
        let beforeOK = i == 0 || !isAlnum(name[i - 1])
        let afterOK = i + q.count == name.count || !(isAlnum(name[i + q.count]) || name[i + q.count] == 0x5F)
        if beforeOK && afterOK { return true }
    }
    return false
}

/// Progress that goes nowhere (the hub's small API answers).
struct SilentProgress: ProgressSink {
    func message(_ text: String) {}
    func progress(done: Int64, total: Int64?) {}
    var showsToolOutput: Bool { false }
}
