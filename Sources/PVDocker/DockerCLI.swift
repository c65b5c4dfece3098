import PVCore

/// Builds and runs `docker` CLI invocations against one engine. Every
/// invocation is a `Command` value (tests assert the argv) and every run
/// has a time bound.
public struct DockerCLI: Sendable {
    public var host: String
    public var runner: any ProcessRunner
    public var binary: String
    /// The client configuration directory (`--config`): the registry credentials of the server's
    /// configuration, for `docker pull` (`DockerClientConfig`). Nil: the user's own (~/.docker).
    public var clientConfig: String?

    public init(host: String, runner: any ProcessRunner, binary: String = "docker", clientConfig: String? = nil) {
        self.host = host
        self.runner = runner
        self.binary = binary
        self.clientConfig = clientConfig
    }

    /// `docker [--config DIR] --host H <args>`: the engine is always explicit, never taken from the
    /// caller's environment.
    public func command(_ arguments: [String], whenInterrupted: InterruptionPolicy = .finish) -> Command {
        Command(binary, (clientConfig.map { ["--config", $0] } ?? []) + ["--host", host] + arguments, whenInterrupted: whenInterrupted)
    }

    public func run(_ arguments: [String], timeout: Double, whenInterrupted: InterruptionPolicy = .finish) throws(PVError) -> ProcessOutput {
        try runner.run(command(arguments, whenInterrupted: whenInterrupted), timeout: timeout)
    }

    /// Fails with a clear "Docker is not running" error when the engine does not answer.
    public func requireEngine(timeout: Double = 10) throws(PVError) {
        let out = try run(["version", "--format", "{{.Server.Version}}"], timeout: timeout)
        guard out.succeeded, !out.stdout.trimmingWhitespace().isEmpty else {
            throw engineDown(cause: out.timedOut ? "no answer within \(Int(timeout)) s" : out.stderr.firstLine)
        }
    }

    /// The error of a call that did not reach the engine. The component tools ask no `docker
    /// version` before they work (a call each time, for an answer the first real call gives):
    /// their first call throws this when the CLI says it cannot connect.
    public func engineDown(cause: String) -> PVError {
        PVError(.unavailable, "the Docker engine at \(host) is not running",
                hint: "start it (systemctl start docker, or install_docker.sh from the bundle), or fix docker_host in the configuration",
                cause: cause)
    }

    /// Throws `engineDown` when `out` says the engine was not reached.
    public func requireReached(_ out: ProcessOutput) throws(PVError) {
        if case .engineUnreachable(let line)? = DockerFailure(out) { throw engineDown(cause: line) }
    }

    /// Inspects containers by name; names that do not exist are simply absent from the result.
    public func inspect(_ names: [String], timeout: Double = 10) throws(PVError) -> [ContainerInfo] {
        let out = try run(["container", "inspect", "--format", ContainerInfo.inspectFormat] + names, timeout: timeout)
        if out.timedOut { throw PVError(.unavailable, "docker container inspect did not answer within \(Int(timeout)) s") }
        try requireReached(out)
        // Exit 1 with "No such container" for missing names is normal; other errors are not.
        let unexpected = out.stderr.split(separator: "\n").filter { !DockerFailure.isNoSuchContainer($0) && !$0.isEmpty }
        if !out.succeeded && !unexpected.isEmpty {
            throw PVError(.unavailable, "docker container inspect failed", cause: String(unexpected[0]))
        }
        return out.stdout.split(separator: "\n").compactMap { ContainerInfo(inspectLine: String($0)) }
    }

    /// One label of a local image; nil when the image has no such label (or is not here).
    public func imageLabel(_ reference: String, _ label: String, timeout: Double = 10) throws(PVError) -> String? {
        let out = try run(["image", "inspect", "--format", "{{index .Config.Labels \"\(label)\"}}", reference], timeout: timeout)
        try requireReached(out)
        let value = out.stdout.trimmingWhitespace()
        return out.succeeded && !value.isEmpty && value != "<no value>" ? value : nil
    }

    public func imageExists(_ reference: String, timeout: Double = 10) throws(PVError) -> Bool {
        try run(["image", "inspect", "--format", "{{.Id}}", reference], timeout: timeout).succeeded
    }

    /// The registry digest of a local image (`repo@sha256:...`), if it came from a registry.
    public func repoDigest(ofImage id: String, timeout: Double = 10) throws(PVError) -> String? {
        let out = try run(["image", "inspect", "--format", "{{range .RepoDigests}}{{println .}}{{end}}", id], timeout: timeout)
        return out.succeeded ? out.stdout.split(separator: "\n").first.map(String.init) : nil
    }
}

/// The facts about one container the tools need, read with a Go template so
/// that no JSON parser is needed and the fields are unambiguous.
public struct ContainerInfo: Sendable, Equatable {
    public var name: String
    public var status: String  // created, running, paused, restarting, exited, dead
    public var startedAt: String
    public var pid: Int
    public var imageID: String
    public var imageReference: String
    public var component: String?
    public var version: String?
    public var exitCode: Int
    /// How often the engine restarted it (restart policy); a crash loop shows here.
    public var restartCount: Int = 0

    public var isRunning: Bool { status == "running" }

    static let separator = "\u{1f}"
    static let inspectFormat = [
        "{{.Name}}", "{{.State.Status}}", "{{.State.StartedAt}}", "{{.State.Pid}}", "{{.Image}}", "{{.Config.Image}}",
        "{{index .Config.Labels \"\(ContainerNaming.componentLabel)\"}}", "{{index .Config.Labels \"\(ContainerNaming.versionLabel)\"}}",
        "{{.State.ExitCode}}", "{{.RestartCount}}",
        "{{index .Config.Labels \"\(HandoffSlot.label)\"}}", "{{index .Config.Labels \"\(ContainerNaming.slotLabel)\"}}",
    ].joined(separator: separator)

    public init(name: String, status: String, startedAt: String, pid: Int, imageID: String, imageReference: String,
                component: String?, version: String?, exitCode: Int) {
        self.name = name
        self.status = status
        self.startedAt = startedAt
        self.pid = pid
        self.imageID = imageID
        self.imageReference = imageReference
        self.component = component
        self.version = version
        self.exitCode = exitCode
    }

    init?(inspectLine line: String) {
        let f = line.split(separator: Character(Self.separator), omittingEmptySubsequences: false).map(String.init)
        guard f.count == 10 || f.count == 12 else { return nil }
        let name = f[0].hasPrefix("/") ? String(f[0].dropFirst()) : f[0]
        func label(_ s: String) -> String? { s.isEmpty || s == "<no value>" ? nil : s }
        self.init(name: name, status: f[1], startedAt: f[2], pid: Int(f[3]) ?? 0, imageID: f[4], imageReference: f[5],
                  component: label(f[6]), version: label(f[7]), exitCode: Int(f[8]) ?? 0)
        restartCount = Int(f[9]) ?? 0
        if f.count == 12 {
            handoff = label(f[10])
            slot = label(f[11]).flatMap(HandoffSlot.init)
        }
    }

    /// The container's (its image's) `org.provision.handoff` label, and its handoff slot.
    public var handoff: String?
    public var slot: HandoffSlot?

    /// Whether this container takes part in a DNS handoff as the old instance.
    public var supportsHandoff: Bool { handoff == HandoffSlot.supportedValue }

    /// Seconds since the epoch of `startedAt` (RFC 3339, as Docker prints it).
    public var startedEpoch: Int? { RFC3339.epochSeconds(startedAt) }
}

extension String {
    var firstLine: String { split(separator: "\n").first.map(String.init) ?? "" }
}
