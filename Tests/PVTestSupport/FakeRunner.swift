import PVCore

/// A scripted docker: records every invocation and answers from a closure.
/// Anything not scripted fails loudly, so no test reaches a real engine.
public final class FakeRunner: ProcessRunner, @unchecked Sendable {
    public var calls: [[String]] = []
    public var respond: ([String]) -> ProcessOutput

    public init(_ respond: @escaping ([String]) -> ProcessOutput) { self.respond = respond }

    public func run(_ command: Command, timeout: Double) throws(PVError) -> ProcessOutput {
        precondition(timeout > 0, "every run has a bound")
        calls.append(command.argv)
        return respond(Array(command.arguments.dropFirst(2)))  // drop --host H
    }

    public func exec(_ command: Command) throws(PVError) -> Never { fatalError("exec in a unit test: \(command)") }

    /// The docker subcommands issued, e.g. ["version", "container inspect", "run", ...].
    public var verbs: [String] {
        calls.map { argv in
            let a = Array(argv.dropFirst(3))
            return ["container", "image"].contains(a.first ?? "") ? a.prefix(2).joined(separator: " ") : (a.first ?? "")
        }
    }
}

/// One line of `docker container inspect --format` as DockerCLI asks for it.
public func inspectLine(name: String, status: String = "running", version: String, image: String? = nil, pid: Int = 42) -> String {
    [ "/" + name, status, "2026-11-26T01:00:00.5Z", String(pid), "sha256:abc", image ?? "127.0.0.1:5000/pv-dns:\(version)",
      "dns", version, "0", "0" ].joined(separator: "\u{1f}")
}
