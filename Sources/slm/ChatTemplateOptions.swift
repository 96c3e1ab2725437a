import ArgumentParser
import Foundation
import ModelStore
import SLMEngine

/// --chat-template: a Jinja template file used instead of the model's own.
struct ChatTemplateOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Render the conversation with this Jinja template file instead of the model's.",
                                            valueName: "FILE"))
    var chatTemplate: String?

    /// The template given, nil when none was. An unreadable file is a runtime error (exit 1); a template that does not
    /// parse is a usage error (exit 2) naming its line and column, as a bad --grammar is.
    func load() throws -> ChatTemplate? {
        guard let path = chatTemplate else { return nil }
        return try Self.load(path, flag: "--chat-template")
    }

    static func load(_ path: String, flag: String) throws -> ChatTemplate {
        let text = try readTextFile(path, flag: flag)
        do { return try ChatTemplate(source: text, origin: .file(path)) } catch {
            throw CLIError.usage("\(flag) '\(path)': \(error)")
        }
    }
}

/// A JSON file's text (for --messages, --tools): unreadable is a runtime error.
func readJSONFile(_ path: String, flag: String) throws -> JSONValue {
    let text = try readTextFile(path, flag: flag)
    do { return try JSONValue.parse(text) } catch { throw CLIError.runtime("\(flag) '\(path)' is not valid JSON: \(error.description)") }
}

/// A UTF-8 text file, pipes (`<(...)`) included; unreadable is a runtime error naming the flag.
func readTextFile(_ path: String, flag: String) throws -> String {
    var st = stat()
    if stat(path, &st) != 0 { throw CLIError.runtime("cannot read \(flag) '\(path)': \(String(cString: strerror(errno)))") }
    if (st.st_mode & S_IFMT) == S_IFDIR { throw CLIError.runtime("cannot read \(flag) '\(path)': is a directory") }
    guard let handle = FileHandle(forReadingAtPath: path) else { throw CLIError.runtime("cannot read \(flag) '\(path)'") }
    defer { try? handle.close() }
    let data: Data
    do { data = try handle.readToEnd() ?? Data() } catch {
        throw CLIError.runtime("cannot read \(flag) '\(path)': \(systemReason(error))")
    }
    return try Stdio.utf8(data, what: "\(flag) '\(path)'")
}
