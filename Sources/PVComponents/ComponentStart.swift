import PVCore
import PVState
import PVDocker
#if canImport(Glibc)
import Glibc
#endif

/// Starting a component: the operation behind start_pv_<component>.sh, also
/// used by pv_update and pv_install.
public struct ComponentStart: Sendable {
    public var context: ComponentContext
    /// Bound on waiting for the component to work after `docker run`.
    public var readyTimeout: Double
    public var pullTimeout: Double

    public init(context: ComponentContext, readyTimeout: Double = 20, pullTimeout: Double = 900) {
        self.context = context
        self.readyTimeout = readyTimeout
        self.pullTimeout = pullTimeout
    }

    public enum Outcome: Equatable, Sendable {
        case alreadyRunning(Version)
        case started(Version, replaced: Version?, readyAfterMs: Double)
    }

    /// The version to start: the one asked for, else the last verified one.
    public func resolveVersion(_ component: Component, requested: String?) throws(PVError) -> Version {
        if let requested { return try Version.parse(requested) }
        let record = try context.state.load()[component]
        if let v = record.verified { return v }
        var hint = "pass -v VERSION"
        if let tags = try? context.registry?.tags(for: component) {
            let versions = tags.compactMap(Version.init).sorted()
            if !versions.isEmpty { hint += " (in the registry: \(versions.map(\.description).joined(separator: ", ")))" }
        }
        throw PVError(.notFound, "no verified version of \(component.rawValue) is recorded yet", hint: hint)
    }

    /// `interruptible`: a signal before the old container is touched stops here, changing
    /// nothing. A rollback or recovery passes false: it is the safe point's own work.
    ///
    /// Where nothing of the component exists (the usual start) `docker run --pull never` is the
    /// only call before the wait: no `docker version`, no inspect, no image inspect (the run says
    /// when the engine is down, the image missing, or the name taken, and only then is more asked).
    public func start(_ component: Component, version: Version, interruptible: Bool = true) throws(PVError) -> Outcome {
        let spec = context.spec(component, version)
        if !(component == .dns && dnsPortHolder() != nil) {
            if interruptible { try Interruption.checkpoint("nothing was changed") }
            try makeMounts(spec)
            let clock = context.environment.clock
            let started = clock.monotonic()
            let run = try context.docker.run(spec.runArguments(pull: "never"), timeout: 60)
            if DockerFailure(run) != .nameInUse {
                if DockerFailure(run) != .noSuchImage { context.progress(.starting(container: spec.name, image: spec.image)) }
                return try launched(run, spec: spec, since: started, interruptible: interruptible, replaced: nil)
            }
        }

        // A container of that name exists, or something holds the DNS port: look.
        let current = try context.container(component)
        if let current, current.isRunning, current.version == version.description, current.imageReference == spec.image {
            try context.state.update { $0[component].running = version }
            return .alreadyRunning(version)
        }
        // The image must be there before the old container goes.
        try ensureImage(spec, whenInterrupted: interruptible ? .cut : .finish)
        // The last point where nothing has changed yet.
        if interruptible { try Interruption.checkpoint("nothing was changed\(current?.isRunning == true ? "; \(current?.version ?? "the old version") still runs" : "")") }

        // Port check only when we do not hold the port ourselves.
        if component == .dns, !(current?.isRunning ?? false), let holder = dnsPortHolder() {
            throw PVError(.tempFail, "cannot start dns: \(holder)",
                          hint: "stop the other DNS server, or change dns_listen / dns_verify_port in the configuration")
        }

        let replaced = current?.version.flatMap(Version.init)
        if current != nil {
            context.progress(.stopping(container: spec.name, version: current?.version))
            try ComponentStop(context: context).removeContainer(spec.name, grace: 10)
        }
        try makeMounts(spec)
        context.progress(.starting(container: spec.name, image: spec.image))
        let clock = context.environment.clock
        let started = clock.monotonic()
        let run = try context.docker.run(spec.runArguments, timeout: 60)
        return try launched(run, spec: spec, since: started, interruptible: interruptible, replaced: replaced)
    }

    /// What holds the DNS port when it is not free (nil: free, or not DNS-listen shaped).
    func dnsPortHolder() -> String? {
        guard let listen = Self.listenAddress(context.config.dnsListen) else { return nil }
        return context.ports.udpPortHolder(address: listen.address, port: listen.port)
    }

    func makeMounts(_ spec: ContainerSpec) throws(PVError) {
        for m in spec.mounts {
            do { try FileIO.makeDirectories(m.host) } catch {
                throw PVError(.cantCreate, "cannot create \(m.host) for \(spec.component.rawValue)", cause: error.message)
            }
        }
    }

    /// After `docker run`: an image missing (`--pull never`) is pulled and run again; then the
    /// container is recorded as running and waited for until it works.
    func launched(_ first: ProcessOutput, spec: ContainerSpec, since started: Double, interruptible: Bool, replaced: Version?) throws(PVError) -> Outcome {
        var run = first
        if DockerFailure(run) == .noSuchImage {
            try ensureImage(spec, whenInterrupted: interruptible ? .cut : .finish)
            context.progress(.starting(container: spec.name, image: spec.image))
            run = try context.docker.run(spec.runArguments, timeout: 60)
        }
        try context.docker.requireReached(run)
        guard run.succeeded else {
            throw PVError(.osError, "docker run of \(spec.image) failed", hint: "see the message above; stop_pv_\(spec.component.rawValue).sh clears a half-started container",
                          cause: run.timedOut ? "timed out after 60 s" : DockerFailure.lastMeaningfulLine(run.stderr))
        }
        try context.state.update {
            $0[spec.component].running = spec.version
            $0[spec.component].record("started", version: spec.version, at: context.now)
        }
        let ms = try waitUntilReady(spec.component, spec: spec, since: started)
        return .started(spec.version, replaced: replaced, readyAfterMs: ms)
    }

    /// Pulls the image unless it is present (see `ImagePull`). A download is cut by a signal
    /// (nothing has changed yet), except where it must finish (a rollback).
    public func ensureImage(_ spec: ContainerSpec, whenInterrupted: InterruptionPolicy = .cut) throws(PVError) {
        try ImagePull(context: context, timeout: pullTimeout).ensure(spec, whenInterrupted: whenInterrupted)
    }

    /// Polls every 5 ms. DNS readiness is a query to the server, so Docker is asked only every
    /// 250 ms then (to stop at once when the container exited); DHCP needs the container's pid and
    /// monitoring that it runs, so Docker is asked until it runs.
    func waitUntilReady(_ component: Component, spec: ContainerSpec, since started: Double) throws(PVError) -> Double {
        let clock = context.environment.clock
        let deadline = started + readyTimeout
        var last = "not checked"
        var info: ContainerInfo? = nil
        var inspected = component == .dns ? clock.monotonic() : -Double.infinity
        repeat {
            let now = clock.monotonic()
            if (component != .dns && info?.isRunning != true) || now - inspected >= 0.25 {
                info = try context.docker.inspect([spec.name]).first
                inspected = now
                if let info, info.status == "exited" || info.status == "dead" {
                    throw notReady(spec, "the container exited with status \(info.exitCode)")
                }
                if info?.isRunning != true { last = "container \(info?.status ?? "missing")" }
            }
            if component == .dns || info?.isRunning == true {
                switch context.readiness.check(component, container: info, config: context.config) {
                case .ready: return (clock.monotonic() - started) * 1000
                case .notYet(let why): last = why
                }
            }
            clock.sleep(0.005)
        } while clock.monotonic() < deadline
        throw notReady(spec, "not ready within \(Int(readyTimeout)) s: \(last)")
    }

    func notReady(_ spec: ContainerSpec, _ why: String) -> PVError {
        let logs = (try? context.docker.run(["logs", "--tail", "5", spec.name], timeout: 5)).map { ($0.stdout + $0.stderr).trimmedLastLine } ?? ""
        return PVError(.checkFailed, "\(spec.component.rawValue) \(spec.version) started but does not work: \(why)",
                       hint: "read its log (docker logs \(spec.name)), debug it with start_pv_\(spec.component.rawValue).sh -b, or start another version with -v",
                       cause: logs.isEmpty ? nil : "last log line: \(logs)")
    }

    static func listenAddress(_ knotListen: String) -> (address: String, port: UInt16)? {
        guard let at = knotListen.lastIndex(of: "@"), let port = Syntax.port(String(knotListen[knotListen.index(after: at)...])) else { return nil }
        return (String(knotListen[..<at]), port)
    }
}

extension String {
    var trimmedLastLine: String {
        split(separator: "\n").last.map { $0.trimmingWhitespace() } ?? ""
    }
}
