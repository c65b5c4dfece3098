import ArgumentParser
import PVCLI
import PVCore
import PVUninstall

/// `pv_uninstall`: Delete Managed Server on the host.
public struct UninstallCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_uninstall",
        abstract: "Remove this managed server's agent: components, heartbeat, sudoers, helper and install root.",
        usage: """
            pv_uninstall [--yes] [--purge-images] [--keep-root] [--archive <PATH>]
                         [--remove-user [--user <NAME>]] [--root <DIR>]
            """,
        discussion: """
            Without --yes it only lists what it would remove, and changes nothing. With --yes, in this order: the configuration, state and logs are written, redacted, to a tar.gz whose path it prints (by default in /var/tmp, or beside a sandbox's root); the heartbeat timer is disabled and its units, the sudoers file and the DHCP check helper removed; the components' containers (and with --purge-images their images) removed; then the install root, unless --keep-root. The agent's user stays unless --remove-user.

            It asks nothing and can be run again: what is gone is not listed. With --root elsewhere than /provision it is a sandbox, like the install's: system files are those under <root>/system, and no user is removed.

            Without root, root's part (units, sudoers, helper, user) must be done first: it lists the commands and changes nothing. As root it runs only from a file that root alone can change (the bundle's copy, not the agent's in <root>/libs).

            Exit status:
              0        removed, listed, or nothing to remove
              69       Docker does not answer (nothing changed)
              71       a command failed (what is done stays done; run it again)
              73       the archive or a file could not be written or removed
              77       not root, and root's part is still to do (nothing changed)
            """)

    @Flag(name: .long, help: "Do it (without it: only list).")
    public var yes = false

    @Flag(name: .long, help: "Also remove the components' images.")
    public var purgeImages = false

    @Flag(name: .long, help: "Leave the install root (the archive is still written).")
    public var keepRoot = false

    @Option(name: .long, help: ArgumentHelp("Where to write the archive of the configuration, state and logs.", valueName: "PATH"))
    public var archive: String?

    @Flag(name: .long, help: "Also remove the agent's user (the owner of the root, or --user).")
    public var removeUser = false

    @Option(name: .long, help: ArgumentHelp("The agent's user for --remove-user.", valueName: "NAME"))
    public var user: String?

    @OptionGroup public var rootOptions: RootOptions

    public init() {}

    public func run() throws {
        do {
            try TrustedExecutable.requireForRoot(tool: "pv_uninstall")
            try execute(in: .live(root: rootOptions.resolve()))
        } catch { throw ErrorReporting.exit(error) }
    }

    func execute(in environment: AgentEnvironment) throws(PVError) {
        let output = environment.output
        let run = UninstallRun(environment: environment, yes: yes,
                               options: .init(purgeImages: purgeImages, keepRoot: keepRoot, removeUser: removeUser, user: user, archive: archive))
        switch try run.execute({ output.line("done: " + $0) }) {
        case .nothingToDo:
            output.line("nothing to remove: no install at \(environment.root.path)")
        case .listed(let plan):
            output.line("pv_uninstall would, in this order:")
            for action in plan.actions { output.line("  - \(action.text)\(action.needsRoot ? " (root)" : "")") }
            for note in plan.notes { output.line("note: \(note)") }
            output.line("nothing was changed: run again with --yes to do it")
        case .done(let archive):
            if let archive { output.line("archive: \(archive)") }
            output.line("removed")
        }
    }
}
