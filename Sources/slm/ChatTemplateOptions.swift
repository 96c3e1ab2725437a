import ArgumentParser
import Foundation
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
        guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.runtime("cannot read \(flag) '\(path)'") }
        let text = try Stdio.utf8(data, what: "\(flag) '\(path)'")
        do { return try ChatTemplate(source: text, origin: .file(path)) } catch {
            throw CLIError.usage("\(flag) '\(path)': \(error)")
        }
    }
}

/// A JSON file's text (for --messages, --tools): unreadable is a runtime error.
func readJSONFile(_ path: String, flag: String) throws -> JSONValue {
    guard let data = FileManager.default.contents(atPath: path) else { throw CLIError.runtime("cannot read \(flag) '\(path)'") }
    let text = try Stdio.utf8(data, what: "\(flag) '\(path)'")
    do { return try JSONValue.parse(text) } catch { throw CLIError.runtime("\(flag) '\(path)' is not valid JSON: \(error.description)") }
}
