import Foundation
import SystemPackage

/// Reads lines from a terminal with editing (left/right, Home/End or Ctrl-A/E, Backspace/Delete, Ctrl-U) and history
/// (up/down), in raw mode only while a line is being read; the prompt and the line are drawn on stderr. Ctrl-C clears
/// the line, Ctrl-D on an empty line ends input.
final class LineEditor {
    enum Input { case line(String), cleared, end }

    private var history: [String] = []
    private let maxHistory = 500

    static var isTerminal: Bool { isatty(STDIN_FILENO) == 1 }

    func read(prompt: String) -> Input {
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return .end }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL)
        withUnsafeMutableBytes(of: &raw.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }

        var line: [Unicode.Scalar] = []
        var cursor = 0
        var historyIndex = history.count
        var draft: [Unicode.Scalar] = []
        func redraw() {
            var s = "\r" + prompt
            s.unicodeScalars.append(contentsOf: line)
            s += "\u{1b}[K"
            if cursor < line.count { s += "\u{1b}[\(line.count - cursor)D" }
            draw(s)
        }
        redraw()
        var pending: [UInt8] = []
        while true {
            guard let byte = readByte() else { draw("\n"); return .end }
            switch byte {
            case 0x0d, 0x0a:
                draw("\n")
                let text = String(String.UnicodeScalarView(line))
                if !text.trimmingCharacters(in: .whitespaces).isEmpty, history.last != text {
                    history.append(text)
                    if history.count > maxHistory { history.removeFirst() }
                }
                return .line(text)
            case 0x03:
                draw("^C\n")
                return .cleared
            case 0x04:
                if line.isEmpty { draw("\n"); return .end }
                if cursor < line.count { line.remove(at: cursor) }
            case 0x7f, 0x08:
                if cursor > 0 { line.remove(at: cursor - 1); cursor -= 1 }
            case 0x01: cursor = 0
            case 0x05: cursor = line.count
            case 0x15: line.removeFirst(cursor); cursor = 0
            case 0x1b:
                guard let b1 = readByte(), b1 == UInt8(ascii: "[") || b1 == UInt8(ascii: "O"), let b2 = readByte() else { break }
                switch b2 {
                case UInt8(ascii: "A"), UInt8(ascii: "B"):
                    let up = b2 == UInt8(ascii: "A")
                    if historyIndex == history.count { draft = line }
                    let next = up ? max(historyIndex - 1, 0) : min(historyIndex + 1, history.count)
                    guard next != historyIndex else { break }
                    historyIndex = next
                    line = historyIndex == history.count ? draft : Array(history[historyIndex].unicodeScalars)
                    cursor = line.count
                case UInt8(ascii: "C"): cursor = min(cursor + 1, line.count)
                case UInt8(ascii: "D"): cursor = max(cursor - 1, 0)
                case UInt8(ascii: "H"): cursor = 0
                case UInt8(ascii: "F"): cursor = line.count
                case UInt8(ascii: "3"):
                    if readByte() == UInt8(ascii: "~"), cursor < line.count { line.remove(at: cursor) }
                default: break
                }
            default:
                guard byte >= 0x20 else { break }
                pending.append(byte)
                if let s = String(validating: pending, as: UTF8.self) {
                    line.insert(contentsOf: s.unicodeScalars, at: cursor)
                    cursor += s.unicodeScalars.count
                    pending = []
                } else if pending.count >= 4 {
                    pending = []
                } else {
                    continue
                }
            }
            redraw()
        }
    }

    private func readByte() -> UInt8? {
        var b: UInt8 = 0
        let n = try? withUnsafeMutableBytes(of: &b) { try FileDescriptor.standardInput.read(into: $0) }
        return n == 1 ? b : nil
    }

    private func draw(_ s: String) {
        var s = s
        s.withUTF8 { buf in _ = write(STDERR_FILENO, buf.baseAddress, buf.count) }
    }
}
