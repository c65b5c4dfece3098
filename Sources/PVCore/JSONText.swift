/// A tiny JSON writer. The tools print small, flat documents; a hand-rolled
/// writer keeps key order stable (operators diff these) and keeps Foundation
/// out of executables that do not otherwise need it.
public indirect enum JSONValue: Sendable, Equatable {
    case string(String)
    case number(Double)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.rendered == b.rendered }

    public var rendered: String {
        switch self {
        case .string(let s): return JSONValue.quote(s)
        case .number(let d):
            if d.isNaN || d.isInfinite { return "null" }
            return d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .null: return "null"
        case .array(let items): return "[" + items.map(\.rendered).joined(separator: ",") + "]"
        case .object(let pairs):
            return "{" + pairs.map { JSONValue.quote($0.0) + ":" + $0.1.rendered }.joined(separator: ",") + "}"
        }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                // Controls as \u escapes, C1 and DEL too, so that JSON shown on a terminal is inert.
                if scalar.isTerminalControl {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
