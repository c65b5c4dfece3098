/// A component version: strict semantic version `MAJOR.MINOR.PATCH` with an
/// optional pre-release (`1.2.0-rc.1`). It becomes part of an image
/// reference, so the syntax is deliberately narrow: no leading zeros, no
/// build metadata (`+` is not valid in a Docker tag), at most 64 characters.
public struct Version: Comparable, Hashable, Sendable, CustomStringConvertible, Codable {
    public let major: Int, minor: Int, patch: Int
    public let prerelease: [String]

    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 64 else { return nil }
        let dash = text.firstIndex(of: "-")
        let core = dash.map { text[..<$0] } ?? text[...]
        let numbers = core.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 3 else { return nil }
        var parsed: [Int] = []
        for n in numbers {
            guard !n.isEmpty, n.count <= 9, n.allSatisfy({ $0.isASCII && $0.isNumber }), !(n.count > 1 && n.first == "0"),
                  let v = Int(n) else { return nil }
            parsed.append(v)
        }
        var pre: [String] = []
        if let dash {
            let rest = text[text.index(after: dash)...]
            pre = rest.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            for id in pre {
                guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
                if id.allSatisfy(\.isNumber) && id.count > 1 && id.first == "0" { return nil }
            }
        }
        (major, minor, patch, prerelease) = (parsed[0], parsed[1], parsed[2], pre)
    }

    public var isPrerelease: Bool { !prerelease.isEmpty }

    public var description: String {
        "\(major).\(minor).\(patch)" + (prerelease.isEmpty ? "" : "-" + prerelease.joined(separator: "."))
    }

    /// Semantic Versioning 2.0.0 precedence: numeric fields numerically; a
    /// pre-release sorts before its release; identifiers compared in turn.
    public static func < (a: Version, b: Version) -> Bool {
        if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) {
            return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
        }
        if a.prerelease.isEmpty || b.prerelease.isEmpty { return !a.prerelease.isEmpty && b.prerelease.isEmpty }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            switch (Int(x), Int(y)) {
            case let (i?, j?): return i < j
            case (.some, nil): return true
            case (nil, .some): return false
            default: return x < y
            }
        }
        return a.prerelease.count < b.prerelease.count
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let v = Version(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a version: \(text)"))
        }
        self = v
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }

    /// Parses a user-supplied version or explains the accepted syntax.
    public static func parse(_ text: String) throws(PVError) -> Version {
        guard let v = Version(text) else {
            throw PVError(.dataError, "'\(text.prefix(80))' is not a valid version",
                          hint: "use MAJOR.MINOR.PATCH, optionally with a pre-release such as 1.4.0-rc.1 (digits without leading zeros)")
        }
        return v
    }
}
