/// The `components` key: which components a server runs, as ProVision's Services tab lists them.
public enum EnabledComponents {
    /// `dns, dhcp, monitoring` or any non-empty subset, comma-separated, each once; returned in
    /// start order whatever the order written. The problem, for a configuration error, otherwise.
    public static func parse(_ text: String) -> Result<[Component], Problem> {
        var chosen: Set<Component> = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = String(item).trimmingWhitespace()
            guard let component = Component(rawValue: name) else {
                return .failure(Problem(text: name.isEmpty ? "an empty item in the list (write: dns, dhcp, monitoring or a part of it)"
                                             : "'\(name.messageExcerpt())' is not a component (known: \(Component.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
            guard chosen.insert(component).inserted else { return .failure(Problem(text: "\(name) is listed twice")) }
        }
        return .success(Component.allCases.filter(chosen.contains))
    }

    /// What is wrong with the value, said without echoing more than a short excerpt of it.
    public struct Problem: Error, Equatable {
        public var text: String
    }
}
