import ArgumentParser
import Foundation
import ModelStore
import SLMEngine
import Synchronization

/// Set by SIGINT while a reply streams: the reply stops, the chat goes on.
let chatInterrupt = Atomic<Bool>(false)

struct Chat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An interactive conversation: replies stream, each turn reuses the KV of the conversation so far.",
        discussion: """
            Each line is a user turn (piped stdin: one turn per line). Commands: /system TEXT (no TEXT: none),
            /reset, /save FILE, /load FILE (the messages as JSON), /stats, /help, /exit. Ctrl-C stops a reply,
            Ctrl-D exits. After each reply stderr shows how many prompt tokens were reused and how many prefilled.
            """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var templateOptions: ChatTemplateOptions
    @Option(name: .long, help: "System turn text.") var system: String?
    @Option(name: .long, help: "Read the system turn from a file.") var systemFile: String?
    @Option(name: .long, help: "Most tokens per reply.") var maxTokens: Int = 512
    @Option(name: .long, help: "Context length of the conversation (default: min(model's, 4096)).") var ctx: Int?
    @Option(name: .long, help: "Stop a reply when this text appears (repeatable; not printed).") var stop: [String] = []
    @Option(name: .long, help: ArgumentHelp("A JSON object of extra template variables (e.g. {\"enable_thinking\": false}).", valueName: "JSON"))
    var kwargs: String?

    func validate() throws {
        guard (1...1_000_000).contains(maxTokens) else { throw ValidationError("--max-tokens must be in 1...1000000, got \(maxTokens)") }
        if let c = ctx, !(16...16_777_216).contains(c) { throw ValidationError("--ctx must be in 16...16777216, got \(c)") }
        if system != nil && systemFile != nil { throw ValidationError("give --system or --system-file, not both") }
    }

    func run() throws {
        var variables: [String: JSONValue] = [:]
        if let k = kwargs {
            guard case .object(let pairs)? = try? JSONValue.parse(k) else { throw CLIError.usage("--kwargs must be a JSON object") }
            for (key, v) in pairs { variables[key] = v }
        }
        var systemText = system
        if let path = systemFile { systemText = try readTextFile(path, flag: "--system-file") }
        let override = try templateOptions.load()
        let engine = try modelOptions.loadEngine()
        let context = try runtime { () throws(EngineError) in try engine.contextLength(ctx) }
        let session = try runtime { () throws(EngineError) in try ChatSession(engine: engine, contextLength: context, template: override) }
        session.sampling = sampling.parameters
        session.maxTokens = maxTokens
        session.stops = stop
        session.variables = variables
        if let s = systemText { session.setSystem(s) }
        var loop = ChatLoop(session: session, interactive: LineEditor.isTerminal)
        signal(SIGINT) { _ in chatInterrupt.store(true, ordering: .relaxed) }
        defer { signal(SIGINT, SIG_DFL) }
        if loop.interactive { Stdio.info("slm chat with \(engine.config.architecture) (\(context) tokens of context); /help for commands, Ctrl-D exits") }
        loop.run()
        if loop.failed && !loop.interactive { throw CLIError.runtime("a turn failed (see above)") }
    }
}

/// The read-reply loop of `slm chat`: lines from the line editor (a terminal) or from stdin (one turn per line).
struct ChatLoop {
    let session: ChatSession
    let interactive: Bool
    let editor = LineEditor()
    var last: ChatTurnStats? = nil
    var totals = ChatTurnStats()
    var turns = 0
    var failed = false

    init(session: ChatSession, interactive: Bool) {
        self.session = session
        self.interactive = interactive
    }

    mutating func run() {
        while true {
            let line: String
            if interactive {
                switch editor.read(prompt: "> ") {
                case .end: return
                case .cleared: continue
                case .line(let l): line = l
                }
            } else {
                guard let l = readLine(strippingNewline: true) else { return }
                line = l
            }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            if line.hasPrefix("/") {
                if !command(line) { return }
                continue
            }
            turn(line)
        }
    }

    private mutating func turn(_ text: String) {
        chatInterrupt.store(false, ordering: .relaxed)
        do {
            let stats = try session.send(text, interrupted: { chatInterrupt.load(ordering: .relaxed) }) { Stdio.out($0) }
            Stdio.out("\n")
            if stats.stopReason == .interrupted { Stdio.info("[reply stopped]") }
            last = stats
            turns += 1
            totals.promptTokens += stats.promptTokens
            totals.reusedTokens += stats.reusedTokens
            totals.prefilledTokens += stats.prefilledTokens
            totals.generatedTokens += stats.generatedTokens
            totals.prefillMs += stats.prefillMs
            totals.decodeMs += stats.decodeMs
            Stdio.info(Self.describe(stats))
        } catch {
            failed = true
            Stdio.error(error.description)
        }
    }

    static func describe(_ s: ChatTurnStats) -> String {
        let rate = s.decodeMs > 0 ? Double(max(s.generatedTokens - 1, 0)) / (s.decodeMs / 1000) : 0
        return "[prompt \(s.promptTokens) tokens: \(s.reusedTokens) reused, \(s.prefilledTokens) prefilled in \(fmt1(s.prefillMs)) ms"
            + " | reply \(s.generatedTokens) tokens in \(fmt1(s.decodeMs)) ms, \(fmt1(rate)) tok/s | \(s.stopReason.rawValue)]"
    }

    /// Runs a /command; false ends the chat.
    private mutating func command(_ line: String) -> Bool {
        let parts = line.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        let name = String(parts[0])
        let argument = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: .whitespaces) : ""
        switch name {
        case "/exit", "/quit":
            return false
        case "/system":
            session.setSystem(argument.isEmpty ? nil : argument)
            Stdio.info(argument.isEmpty ? "[system turn removed]" : "[system turn set]")
        case "/reset":
            session.reset()
            Stdio.info("[conversation cleared]")
        case "/save":
            guard !argument.isEmpty else { Stdio.error("/save needs a file name"); return true }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                try (try encoder.encode(session.messages) + Data("\n".utf8)).write(to: URL(fileURLWithPath: argument))
                Stdio.info("[saved \(session.messages.count) messages to \(argument)]")
            } catch {
                Stdio.error("cannot write '\(argument)': \(systemReason(error))")
            }
        case "/load":
            guard !argument.isEmpty else { Stdio.error("/load needs a file name"); return true }
            do {
                let json = try readJSONFile(argument, flag: "/load")
                let messages = try runtime { () throws(EngineError) in try ChatMessage.list(from: json) }
                session.replaceMessages(messages)
                Stdio.info("[loaded \(messages.count) messages from \(argument)]")
            } catch {
                Stdio.error("\(error)")
            }
        case "/stats":
            guard let last else { Stdio.info("[no turns yet]"); return true }
            Stdio.info("last turn: " + Self.describe(last))
            let reused = totals.promptTokens > 0 ? 100 * Double(totals.reusedTokens) / Double(totals.promptTokens) : 0
            Stdio.info("\(turns) turns: \(totals.promptTokens) prompt tokens, \(totals.reusedTokens) reused (\(fmt1(reused))%), "
                + "\(totals.prefilledTokens) prefilled in \(fmt1(totals.prefillMs)) ms; \(totals.generatedTokens) tokens generated in \(fmt1(totals.decodeMs)) ms; "
                + "\(session.messages.count) messages")
        case "/help":
            Stdio.info("/system TEXT, /reset, /save FILE, /load FILE, /stats, /exit; Ctrl-C stops a reply, Ctrl-D exits")
        default:
            Stdio.error("unknown command \(name); /help lists them")
        }
        return true
    }
}
