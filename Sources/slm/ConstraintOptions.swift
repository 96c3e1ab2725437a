import ArgumentParser
import Foundation
import SLMEngine

/// --json-schema, --json, --grammar, --think-budget, --think-message, --think-soft, --hide-reasoning: what shape the
/// answer must have and how much the model may reason first.
struct ConstraintOptions: ParsableArguments {
    @Option(name: .long, help: "The output is one JSON value valid under this JSON Schema file.")
    var jsonSchema: String?
    @Flag(name: .long, help: "The output is one JSON value (any).")
    var json = false
    @Option(name: .long, help: "The output matches this GBNF grammar file (llama.cpp syntax; root rule 'root').")
    var grammar: String?
    @Option(name: .long, help: ArgumentHelp(
        "Open a reasoning section; the model reasons for at most N tokens, then the engine closes it (0 = no reasoning). "
            + "Within --max-tokens: the reasoning ends early enough for the close marker and the shortest valid answer.",
        valueName: "N"))
    var thinkBudget: Int?
    @Option(name: .long, help: ArgumentHelp(
        "Text the engine writes before it closes the reasoning at the budget ('' = none).", valueName: "TEXT"))
    var thinkMessage: String = GenerationRequest.defaultThinkMessage ?? ""
    @Option(name: .long, help: ArgumentHelp(
        "Soft budget: from this fraction of the reasoning budget on, raise the close's probability step by step (off by default).",
        valueName: "FRACTION"))
    var thinkSoft: Double?
    @Flag(name: .long, help: "Do not print the reasoning section.")
    var hideReasoning = false

    func validate() throws {
        let n = [jsonSchema != nil, json, grammar != nil].filter { $0 }.count
        if n > 1 { throw ValidationError("give one of --json-schema, --json, --grammar") }
        if let b = thinkBudget, !(0...1_000_000).contains(b) { throw ValidationError("--think-budget must be in 0...1000000, got \(b)") }
        if hideReasoning && thinkBudget == nil { throw ValidationError("--hide-reasoning needs --think-budget") }
        if let f = thinkSoft {
            guard f.isFinite, (0...1).contains(f) else { throw ValidationError("--think-soft must be in 0...1, got \(f)") }
            guard thinkBudget != nil else { throw ValidationError("--think-soft needs --think-budget") }
        }
        guard thinkMessage.utf8.count <= 1000 else { throw ValidationError("--think-message must be at most 1000 bytes") }
    }

    /// The compiled constraint, nil when none was asked for. A file that cannot be read is a runtime error (exit 1);
    /// a grammar or schema that does not compile is a usage error (exit 2) naming what is wrong.
    func compiledGrammar() throws -> (grammar: Grammar, milliseconds: Double)? {
        let clock = ContinuousClock()
        let start = clock.now
        guard let g = try compile() else { return nil }
        let (s, atto) = (clock.now - start).components
        return (g, Double(s) * 1000 + Double(atto) / 1e15)
    }

    private func compile() throws -> Grammar? {
        func read(_ path: String, _ flag: String) throws -> String {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError.runtime("cannot read \(flag) '\(path)'")
            }
            return try Stdio.utf8(data, what: "\(flag) '\(path)'")
        }
        do {
            if let path = grammar { return try Grammar(gbnf: try read(path, "--grammar")) }
            if let path = jsonSchema { return try JSONSchemaGrammar.grammar(schema: try read(path, "--json-schema")) }
            if json { return try Grammar(gbnf: JSONSchemaGrammar.anyValueGBNF) }
        } catch let e as GrammarError {
            let flag = grammar != nil ? "--grammar" : "--json-schema"
            throw CLIError.usage("\(flag): \(e.description)")
        }
        return nil
    }
}
