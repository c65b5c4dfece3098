/// The parts of a managed server, each in its own container, in the order they start.
public enum Component: String, CaseIterable, Sendable, Codable, Comparable {
    case dns, dhcp, monitoring

    public static func < (a: Component, b: Component) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// A component named on a command line, with an error that lists the valid ones.
    public static func parse(_ text: String) throws(PVError) -> Component {
        guard let c = Component(rawValue: text.lowercased()) else {
            throw PVError(.usage, "unknown component '\(text.prefix(40))'",
                          hint: "use one of: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return c
    }
}
