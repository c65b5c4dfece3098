import PVArchive
import PVCore
import PVDocker
import PVState
#if canImport(Glibc)
import Glibc
#endif

/// Delete Managed Server on the host (the seed's last action): what the plan lists, in order,
/// each step said as it is done. Without `yes` nothing changes. Without root, root's part must
/// have been done by an admin first (listed with the commands), or nothing changes either.
public struct UninstallRun: Sendable {
    public var environment: AgentEnvironment
    public var options: UninstallPlan.Options
    public var yes: Bool

    public init(environment: AgentEnvironment, yes: Bool, options: UninstallPlan.Options) {
        self.environment = environment
        self.options = options
        self.yes = yes
    }

    public enum Outcome: Sendable, Equatable {
        case nothingToDo
        /// Without --yes: what a run would do.
        case listed(UninstallPlan)
        /// Everything done; the archive, when one was written.
        case done(archive: String?)
    }

    public func execute(_ report: @Sendable (String) -> Void) throws(PVError) -> Outcome {
        let plan = try UninstallPlan.make(environment, options: options)
        if plan.isEmpty { return .nothingToDo }
        if !environment.isRoot && !plan.rootActions.isEmpty {
            let commands = plan.rootActions.compactMap(\.adminCommand)
            throw PVError(.noPermission, "not running as root, and root's part of the removal is still to do:\n  - "
                          + plan.rootActions.map(\.text).joined(separator: "\n  - "),
                          hint: "ask an admin to run, as root: \(commands.joined(separator: " && ")); then run pv_uninstall again (nothing was changed)")
        }
        guard yes else { return .listed(plan) }

        // One change at a time: no update or start may run while the server is taken apart.
        let lock: UpdateLock? = FileIO.exists(environment.root.path) ? try UpdateLock(root: environment.root, purpose: "pv_uninstall") : nil
        var archive: String? = nil
        // Read once, before anything is removed (the containers' engine is in it).
        let config = try? environment.configuration()
        for action in plan.actions {
            try perform(action, config: config)
            if case .writeArchive(let path) = action { archive = path }
            report(action.text)
            if case .removeRoot = action { withExtendedLifetime(lock) {} }
        }
        withExtendedLifetime(lock) {}
        return .done(archive: archive)
    }

    func perform(_ action: UninstallAction, config: ServerConfig?) throws(PVError) {
        let processes = environment.processes
        func run(_ command: Command, timeout: Double = 60, what: String) throws(PVError) {
            let out = try processes.run(command, timeout: timeout)
            guard out.succeeded else {
                throw PVError(.osError, "\(what) failed", hint: "fix it, then run pv_uninstall again (what is done stays done)",
                              cause: out.timedOut ? "timed out after \(Int(timeout)) s" : out.stderr.split(separator: "\n").last.map(String.init))
            }
        }
        switch action {
        case .writeArchive(let path):
            try ArchiveFile.write(UninstallArchive.entries(environment), to: path, time: environment.clock.now())
        case .disableUnit(let unit):
            try run(Command("systemctl", ["disable", "--now", unit]), what: "systemctl disable --now \(unit)")
        case .removeSystemFile(let path):
            guard unlink(path) == 0 || errno == ENOENT else {
                throw PVError(.cantCreate, "cannot remove \(path)", cause: String(cString: strerror(errno)))
            }
        case .removeSystemDirectory(let path):
            // Only when empty: the directory may hold what another tool installed there.
            _ = rmdir(path)
        case .removeSystemTree(let path):
            try run(Command("rm", ["-rf", "--one-file-system", "--", path]), timeout: 300, what: "removing \(path)")
        case .reloadSystemd:
            try run(Command("systemctl", ["daemon-reload"]), what: "systemctl daemon-reload")
        case .removeContainer(let name):
            guard let config else { return }  // no configuration: the plan lists no container
            let docker = DockerCLI(host: config.dockerHost, runner: processes)
            let out = try docker.run(["rm", "--force", name], timeout: 60)
            if let failure = DockerFailure(out), failure != .noSuchContainer {
                throw PVError(.unavailable, "docker rm \(name) failed", cause: failure.text)
            }
        case .removeImage(let reference):
            guard let config else { return }
            let out = try DockerCLI(host: config.dockerHost, runner: processes).run(["image", "rm", reference], timeout: 60)
            if let failure = DockerFailure(out) {
                throw PVError(.unavailable, "docker image rm \(reference) failed", cause: failure.text)
            }
        case .removeRoot(let path):
            // GNU rm never follows a link out of the tree and, with --one-file-system, never
            // descends into another file system mounted inside it.
            try run(Command("rm", ["-rf", "--one-file-system", "--", path]), timeout: 300, what: "removing \(path)")
        case .removeUser(let name):
            try run(Command("userdel", [name]), what: "userdel \(name)")
        }
    }
}
