/// The outcome of one health check, shared by pv_verify, pv_diagnostics and
/// pv_update so that every tool reports checks the same way.
public struct CheckResult: Sendable, Equatable {
    public enum Status: String, Sendable { case ok, warn, fail }

    public var name: String
    public var status: Status
    public var detail: String
    public var hint: String?
    public var milliseconds: Double?

    public init(name: String, status: Status, detail: String, hint: String? = nil, milliseconds: Double? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.hint = hint
        self.milliseconds = milliseconds
    }

    public var passed: Bool { status != .fail }

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("name", .string(name)), ("status", .string(status.rawValue)), ("detail", .string(detail)),
        ]
        pairs.append(("hint", hint.map(JSONValue.string) ?? .null))
        pairs.append(("ms", milliseconds.map { .number(($0 * 10).rounded() / 10) } ?? .null))
        return .object(pairs)
    }

    /// One line for a terminal: `dns   ok    TXT pvverify.test = "PVOK" (2.1 ms)`.
    public var line: String {
        var text = "\(name.padding(16)) \(status.rawValue.uppercased().padding(5)) \(detail)"
        if let ms = milliseconds { text += " (\(Self.format(ms)) ms)" }
        if let hint, status != .ok { text += "\n\(String(repeating: " ", count: 23))next step: \(hint)" }
        return text
    }

    static func format(_ ms: Double) -> String {
        let tenths = Int((ms * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

extension String {
    public func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
