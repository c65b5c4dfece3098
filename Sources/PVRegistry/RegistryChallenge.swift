/// A registry's `WWW-Authenticate` challenge (RFC 7235): `Basic realm="..."`, or `Bearer
/// realm="https://auth.example/token",service="registry.example",scope="repository:pv-dns:pull"`
/// for the distribution token flow.
public struct RegistryChallenge: Sendable, Equatable {
    public enum Scheme: String, Sendable { case basic, bearer }

    public var scheme: Scheme
    /// Auth parameters by lower-cased name, quoted strings unquoted.
    public var parameters: [String: String]

    public var realm: String? { parameters["realm"] }

    /// Nil for anything but a Basic or Bearer challenge with well-formed parameters.
    public static func parse(_ header: String) -> RegistryChallenge? {
        let text = Array(header.trimmingWhitespace())
        var i = 0
        while i < text.count && text[i] != " " { i += 1 }
        guard let scheme = Scheme(rawValue: String(text[0..<i]).lowercased()) else { return nil }
        var parameters: [String: String] = [:]
        while i < text.count {
            while i < text.count && (text[i] == " " || text[i] == ",") { i += 1 }
            guard i < text.count else { break }
            let nameStart = i
            while i < text.count && text[i] != "=" && text[i] != " " && text[i] != "," { i += 1 }
            let name = String(text[nameStart..<i]).lowercased()
            guard !name.isEmpty, i < text.count, text[i] == "=" else { return nil }
            i += 1
            var value = ""
            if i < text.count && text[i] == "\"" {
                i += 1
                var closed = false
                while i < text.count {
                    if text[i] == "\\" && i + 1 < text.count { value.append(text[i + 1]); i += 2; continue }
                    if text[i] == "\"" { closed = true; i += 1; break }
                    value.append(text[i]); i += 1
                }
                guard closed else { return nil }
            } else {
                while i < text.count && text[i] != "," && text[i] != " " { value.append(text[i]); i += 1 }
            }
            parameters[name] = value
        }
        return RegistryChallenge(scheme: scheme, parameters: parameters)
    }
}
