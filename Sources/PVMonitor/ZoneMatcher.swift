/// The zone a queried name belongs to: the longest of the server's zones that the name is in or
/// under, label by label and without regard to case (`WWW.Example.COM.` is in `example.com.`).
/// Knot's dnstap carries no zone (its messages leave `query_zone` out), so pv_monitor asks Knot
/// for its zones and matches; a name in none of them (a query the server refuses) has zone "".
public struct ZoneMatcher: Sendable, Equatable {
    let zones: Set<String>

    public init(zones: [String]) { self.zones = Set(zones.map { Self.canonical($0) }) }

    public func zone(of name: String) -> String {
        var candidate = Self.canonical(name)
        while true {
            if zones.contains(candidate) { return candidate }
            guard candidate != "." else { return "" }
            candidate = Self.parent(of: candidate)
        }
    }

    /// Lower case, ending with the root label.
    static func canonical(_ name: String) -> String {
        let lower = name.lowercased()
        return lower.hasSuffix(".") ? lower : lower + "."
    }

    /// The name without its first label; a label's escaped dot (`a\.b.example.`) is not a boundary.
    static func parent(of name: String) -> String {
        var escaped = false
        var index = name.startIndex
        while index < name.endIndex {
            let c = name[index]
            if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "." {
                let rest = name[name.index(after: index)...]
                return rest.isEmpty ? "." : String(rest)
            }
            index = name.index(after: index)
        }
        return "."
    }
}
