import ArgumentParser
import PVCLI
import PVCore
import PVDocker
import PVRegistry
import PVHTTP
import PVComponents
import PVVerification
import PVState
#if canImport(Glibc)
import Glibc
#endif

/// `pv_start <component>` (behind start_pv_<component>.sh).
public struct StartCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_start",
        abstract: "Start a component (dns, dhcp or monitoring) in its container.",
        usage: """
            pv_start <component> [--version <version>] [--bash] [--wait <wait>]
                     [--root <DIR>]
            """,
        discussion: """
            Without -v the component's last verified version starts. The tool waits until the component really works: DNS answers, DHCP holds its socket, monitoring runs. Starting a component that already runs at that version changes nothing; at another version it replaces it.

            With -b/--bash a debug container starts with an interactive shell instead of /start.sh. The service keeps running; stop it first to run /start.sh by hand.

            SIGTERM, SIGINT or SIGHUP cut a download; a container being replaced is started first.

            Exit status:
              0        started, or already running at that version
              1        started but not working
              64       unknown component
              65       malformed version
              66       version not in the registry, or none recorded
              69       Docker or the registry unavailable
              75       the port is taken by another process
              78       bad configuration
              129/130/143  stopped by SIGHUP/SIGINT/SIGTERM
            """)

    @Argument(help: "dns, dhcp or monitoring.")
    public var component: String

    @Option(name: [.short, .long], help: "Version to start (default: the last verified version).")
    public var version: String?

    @Flag(name: [.short, .long], help: "Debug mode: an interactive shell in the component's image instead of /start.sh.")
    public var bash = false

    @Option(name: .long, help: "Seconds to wait for the component to work.")
    public var wait: Double = 20

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func run() throws {
        do { try execute(in: .live(root: rootOptions.resolve(), http: LiveHTTPTransport(userAgent: "pv_start"))) } catch { throw ErrorReporting.exit(error) }
    }

    func execute(in environment: AgentEnvironment) throws(PVError) {
        let output = environment.output
        let component = try Component.parse(component)
        let context = try ComponentContext.live(environment, readiness: LiveReadinessProbe()) {
            LiveRegistryCatalog(config: $0, environment: environment)
        }
        try context.config.requireEnabled(component)
        // One change at a time: never start while an update or install swaps this server's components.
        let lock = try UpdateLock(root: context.root, purpose: "pv_start \(component.rawValue)")
        defer { withExtendedLifetime(lock) {} }
        // Not for the debug shell: exec hands the terminal and its signals to docker.
        if !bash { environment.handleSignals() }
        // An update interrupted by a crash is finished or undone first, so the
        // component ends at a verified version whatever was asked.
        if try UpdateJournal.load(root: context.root, component: component) != nil {
            var updater = ComponentUpdate(context: context, registry: LiveRegistryCatalog(config: context.config, environment: environment),
                                          verify: { ComponentVerification(context: context).check($0) })
            updater.verifyDNSAt = { ComponentVerification(context: context).dns(at: $0) }
            if let text = try updater.recover(component) { output.line(text) }
            if version == nil && !bash { return }
        }
        let start = ComponentStart(context: context, readyTimeout: wait)
        let version = try start.resolveVersion(component, requested: version)
        if bash {
            try context.docker.requireEngine()
            let spec = context.spec(component, version)
            try start.ensureImage(spec)
            output.line("debug shell in \(spec.image) (exit the shell to end it)")
            try environment.processes.exec(context.docker.command(spec.debugArguments(tty: isatty(0) == 1)))
        }
        switch try start.start(component, version: version) {
        case .alreadyRunning(let v):
            output.line("\(component.rawValue) is already running version \(v); nothing to do")
        case .started(let v, let replaced, let ms):
            let was = replaced.map { " (replaced \($0))" } ?? ""
            output.line("\(component.rawValue) \(v) started\(was) and works after \(Int(ms)) ms")
        }
        try Interruption.checkpoint("the start of \(component.rawValue) was finished first")
    }
}
