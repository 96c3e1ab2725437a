import ArgumentParser
import Foundation
import SLMEngine

/// --tools, --tool-choice: the model may answer with calls to these tools, printed as OpenAI's assistant message.
struct ToolOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Tools the model may call: OpenAI's tools array. The reply is printed as one JSON assistant message with tool_calls.", valueName: "FILE.json"))
    var tools: String?
    @Option(name: .long, help: ArgumentHelp("auto (text or calls), none, required (at least one call), or a tool's name.", valueName: "CHOICE"))
    var toolChoice: String = "auto"

    var enabled: Bool { tools != nil }

    func load() throws -> [ChatTool] {
        guard let path = tools else { return [] }
        let json = try readJSONFile(path, flag: "--tools")
        do { return try ChatTool.list(from: json) } catch { throw CLIError.usage("--tools '\(path)': \(error.description)") }
    }

    /// The grammar that keeps every call parseable and each call's arguments valid under its tool's schema.
    func grammar(_ tools: [ChatTool], format: ToolCallFormat) throws -> Grammar? {
        do { return try ToolCalls.grammar(tools: tools, format: format, choice: ToolChoice(toolChoice)) } catch {
            throw CLIError.usage("--tool-choice / --tools: \(error.description)")
        }
    }

    /// The reply as one line of JSON: `{"role": "assistant", "content": ..., "tool_calls": [...]}`.
    static func message(_ reply: ParsedReply) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return String(decoding: try encoder.encode(reply.message), as: UTF8.self)
    }
}
