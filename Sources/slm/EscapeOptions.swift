import ArgumentParser

/// -e/--escape and --no-escape: whether backslash escapes in command-line text are read (the default, as llama.cpp's
/// `-e`) or taken literally. Text read from stdin or a file is never unescaped.
struct EscapeOptions: ParsableArguments {
    @Flag(name: [.customShort("e"), .customLong("escape")],
          help: "Read \\n \\r \\t \\' \\\" \\\\ \\xNN in command-line text (the default; llama.cpp's -e).")
    var escape = false
    @Flag(name: .customLong("no-escape"), help: "Take command-line text literally.")
    var noEscape = false

    func validate() throws {
        if escape && noEscape { throw ValidationError("give --escape or --no-escape, not both") }
    }

    /// `text` with its escapes read (unless --no-escape); `what` names it in an error.
    func unescaped(_ text: String, _ what: String) throws -> String {
        noEscape ? text : try Escapes.processed(text, what: what)
    }

    /// The argument (escapes read), or stdin when absent or "-" (taken as is).
    func text(_ argument: String?, quiet: Bool, what: String = "the prompt") throws -> String {
        if let a = argument, a != "-" { return try unescaped(a, what) }
        return try promptText(nil, quiet: quiet)
    }
}
