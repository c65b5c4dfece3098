/// Text bound for a terminal or a log: whatever a message carries (a component name typed by
/// someone, a container's log line, a registry's error) must not move the cursor, retitle the
/// window or hide what comes before it.
extension Unicode.Scalar {
    /// C0 controls other than newline and tab, DEL, and the C1 controls (U+0080-U+009F: 0x9B is
    /// an 8-bit CSI to some terminals).
    public var isTerminalControl: Bool {
        (value < 0x20 && value != 0x0a && value != 0x09) || value == 0x7f || (0x80..<0xa0).contains(value)
    }
}

extension String {
    /// Each terminal control as a visible `\x1B`; everything else unchanged.
    public var escapingTerminalControls: String { escaping(where: \.isTerminalControl) }

    /// Every control character, line feed and tab included, as a visible `\x0A`: text a peer
    /// controls (a sender's content type, a Knot or Kea answer) shown inside one line of output,
    /// where a raw line feed would let it forge a line of its own.
    public var escapingControlsInline: String { escaping { $0.isTerminalControl || $0 == "\n" || $0 == "\t" } }

    func escaping(where isEscaped: (Unicode.Scalar) -> Bool) -> String {
        guard unicodeScalars.contains(where: isEscaped) else { return self }
        var out = String.UnicodeScalarView()
        for scalar in unicodeScalars {
            if isEscaped(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out.append(contentsOf: ("\\x" + (hex.count < 2 ? "0" : "") + hex).unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }
}
