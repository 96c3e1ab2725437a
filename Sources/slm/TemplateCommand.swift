import ArgumentParser
import Foundation
import SLMEngine

struct TemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "template",
        abstract: "Print the prompt a chat template renders for a conversation (what the model is fed).",
        discussion: """
            The conversation is --messages FILE.json (OpenAI's messages array), or one user turn given as PROMPT, or a
            messages array on stdin. The template is the model's own, or --template FILE.
            Examples:
              slm template "Hello!"
              slm template --model gemma3-270m --template chat.jinja --messages conv.json --kwargs '{"enable_thinking": false}'
            """)

    @Option(name: .long, help: ArgumentHelp("A .gguf file or model name; its template, BOS and EOS are used (default: smollm2-135m unless --template is given).", valueName: "PATH|NAME"))
    var model: String?
    @Option(name: .long, help: ArgumentHelp("A Jinja chat template file, used instead of the model's.", valueName: "FILE"))
    var template: String?
    @Option(name: .long, help: ArgumentHelp("The conversation: a JSON array of messages.", valueName: "FILE.json"))
    var messages: String?
    @Option(name: .long, help: ArgumentHelp("Tools the template renders: OpenAI's tools array.", valueName: "FILE.json"))
    var tools: String?
    @Flag(name: .long, help: "Do not end with the assistant's opening (add_generation_prompt = false).")
    var noGenerationPrompt = false
    @Option(name: .long, help: ArgumentHelp("A JSON object of template variables (e.g. {\"enable_thinking\": false}; bos_token and eos_token too).", valueName: "JSON"))
    var kwargs: String?
    @Flag(name: .long, help: "Silence stderr except errors.") var quiet = false

    @Argument(help: "One user turn (instead of --messages).") var prompt: String?

    func validate() throws {
        if messages != nil && prompt != nil { throw ValidationError("give --messages or a PROMPT, not both") }
    }

    func run() throws {
        Stdio.quiet = quiet
        var variables: [String: JSONValue] = [:]
        if let k = kwargs {
            guard case .object(let pairs)? = try? JSONValue.parse(k) else { throw CLIError.usage("--kwargs must be a JSON object") }
            for (key, v) in pairs { variables[key] = v }
        }
        let conversation: [ChatMessage]
        if let p = prompt {
            conversation = [.user(p)]
        } else {
            let json: JSONValue
            if let path = messages {
                json = try readJSONFile(path, flag: "--messages")
            } else {
                let text = try Stdio.readStdinText(what: "the messages from stdin")
                do { json = try JSONValue.parse(text) } catch { throw CLIError.runtime("the messages on stdin are not valid JSON: \(error.description)") }
            }
            conversation = try runtime { () throws(EngineError) in try ChatMessage.list(from: json) }
        }
        var toolList: [ChatTool] = []
        if let path = tools {
            let json = try readJSONFile(path, flag: "--tools")
            toolList = try runtime { () throws(EngineError) in try ChatTool.list(from: json) }
        }
        let override = try template.map { try ChatTemplateOptions.load($0, flag: "--template") }
        let rendered: String
        if let t = override, model == nil {
            rendered = try runtime { () throws(EngineError) in
                try t.render(conversation, tools: toolList, addGenerationPrompt: !noGenerationPrompt, variables: variables)
            }
        } else {
            let options = try ModelOptions.parse((model.map { ["--model", $0] } ?? []) + ["--threads", "1"] + (quiet ? ["--quiet"] : []))
            let engine = try options.loadEngine(maxBatch: 1)
            if let note = engine.chatTemplateNote { Stdio.info("note: \(note)") }
            rendered = try runtime { () throws(EngineError) in
                try engine.renderChat(conversation, tools: toolList, addGenerationPrompt: !noGenerationPrompt, variables: variables, template: override)
            }
        }
        Stdio.out(rendered)
    }
}
