import ArgumentParser
import PVCLI
import PVCore
import PVInstall
import PVHTTP
#if canImport(Glibc)
import Glibc
#endif

/// `pv_install`: the whole setup of a managed server as named steps.
public struct InstallCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_install",
        abstract: "Install or reinstall the ProVision agent and its components on this server.",
        usage: """
            pv_install [--exec-only <exec-only>] [--bundle <bundle>]
                       [--from-archive <from-archive>] [--trust-key <FILE>]
                       [--user <user>] [--json] [--prepare-only] [--root <DIR>]
            """,
        discussion: "Steps, in order:\n" + Steps.all.enumerated().map { "  \(String($0.offset + 1).padding(3)) \($0.element.name.padding(17)) \($0.element.summary)" }.joined(separator: "\n")
            + """


            -e/--exec-only STEP[,STEP] runs only those steps, for debugging one step.

            With --root other than /provision the install is a sandbox: system files (units, sudoers) go under <root>/system, and users and the network link are checked, never created. Without root, the root-only parts (docker, the user, the link, the units, sudoers, the DHCP check helper) are checked and each missing one is listed with the bundle script that does it. Each step's log is <root>/logs/install/<step>.log.

            SIGTERM, SIGINT or SIGHUP stop the install at a safe point: a download is cut, a component being swapped is finished, and no further step starts; rerunning the install goes on.

            Exit status:
              0        installed (the entry script then prints PVOK)
              other    the failed step's code; 129/130/143 stopped by
                       SIGHUP/SIGINT/SIGTERM
            """)

    @Option(name: [.short, .customLong("exec-only")], help: "Run only these steps (comma-separated).")
    public var execOnly: String?

    @Option(name: .long, help: "The extracted bundle (default: the directory above this tool's bin/).")
    public var bundle: String?

    @Option(name: .long, help: "Extract and check this setup-<ID>.tar first, then install from it.")
    public var fromArchive: String?

    @Option(name: .long, help: ArgumentHelp("Trust bundles signed by this Ed25519 public key (PEM), and pin it in /etc/provision (a sandbox: <root>/system/etc/provision).", valueName: "FILE"))
    public var trustKey: String?

    @Option(name: .long, help: "The agent's system user (default: provision; in a sandbox, the current user).")
    public var user: String?

    @Flag(name: .long, help: "One JSON object per line per step event (for the management application's progress popup).")
    public var json = false

    @Flag(name: .long, help: "Only unpack and check the bundle's tools into its bin/, then exit (install_python3.sh --prepare-only).")
    public var prepareOnly = false

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func run() throws {
        let environment = AgentEnvironment.live(root: rootOptions.resolve(), http: LiveHTTPTransport(userAgent: "pv_install"))
        var run = InstallRun(environment: environment, execOnly: execOnly, bundle: bundle, fromArchive: fromArchive,
                             trustKey: trustKey, user: user, prepareOnly: prepareOnly)
        run.handOver = true
        let reporter = ProgressReporter(json: json, total: Steps.all.count, output: environment.output)
        let outcome: InstallRun.Outcome
        do { outcome = try run.execute(reporter.handle) } catch {
            reporter.result(error)
            throw ErrorReporting.exit(error)
        }
        switch outcome {
        case .handOver(let executable, let bundleDirectory):
            let arguments = Self.handOverArguments(Array(CommandLine.arguments.dropFirst()), bundle: bundleDirectory)
            reporter.handle(.bundle("bundle: checked; its own pv_install (\(executable)) carries on"))
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            execv(executable, argv)
            let failure = PVError(.osError, "cannot start \(executable)", cause: String(cString: strerror(errno)))
            reporter.result(failure)
            throw ErrorReporting.exit(failure)
        case .installed: reporter.result(nil)
        case .prepared: break
        }
    }

    /// This command line for the bundle's own pv_install: the checked bundle given with --bundle,
    /// in place of --from-archive or --bundle.
    static func handOverArguments(_ arguments: [String], bundle: String) -> [String] {
        var out: [String] = []
        var skipNext = false
        for argument in arguments {
            if skipNext { skipNext = false; continue }
            if argument == "--from-archive" || argument == "--bundle" { skipNext = true; continue }
            if argument.hasPrefix("--from-archive=") || argument.hasPrefix("--bundle=") { continue }
            out.append(argument)
        }
        return out + ["--bundle", bundle]
    }
}
