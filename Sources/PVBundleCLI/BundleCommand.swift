import ArgumentParser
import PVCLI
import PVCore
import PVBundle
#if canImport(Glibc)
import Glibc
#endif

/// `pv_bundle`: what ProVision does when it generates a server's install bundle.
public struct BundleCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pv_bundle",
        abstract: "Write setup-<ID>.tar for one managed server.",
        usage: """
            pv_bundle --id <id> --config <config> [--bin <bin>]
                      [--packed-tools <packed-tools>] [--sign <KEY>]
                      [--templates <templates>] [--output <output>]
            """,
        discussion: "The tar holds the entry script install_python3.sh, install_docker.sh, network_config.sh, the tools (packed: bin/pv_install.gz, lib/tools.tar.xz and TOOLS.SHA256SUMS, from Scripts/pack-tools; or unpacked in bin/ for a development bundle), the wrappers (libs/), the heartbeat units (systemd/), the sudoers templates (sudoers/), the server's configuration and a SHA256SUMS manifest; with --sign, SHA256SUMS.sig, its Ed25519 signature (what pv_install checks against the key pinned on the server).")

    @Option(name: .long, help: "The server's resource ID.")
    public var id: String

    @Option(name: .long, help: "The server's configuration file (its resource_id must match --id).")
    public var config: String

    @Option(name: .long, help: "Directory of the built tools (pv_*), shipped unpacked in bin/ (a development bundle).")
    public var bin: String?

    @Option(name: .long, help: "Directory written by Scripts/pack-tools (pv_install.gz, tools.tar.xz, TOOLS.SHA256SUMS): a release bundle.")
    public var packedTools: String?

    @Option(name: .long, help: ArgumentHelp("Sign the manifest with this Ed25519 private key (PEM): SHA256SUMS.sig.", valueName: "KEY"))
    public var sign: String?

    @Option(name: .long, help: "The Bundle/ directory of this repository.")
    public var templates: String = "Bundle"

    @Option(name: [.short, .long], help: "Where to write setup-<ID>.tar.")
    public var output: String = "."

    public init() {}

    public func validate() throws {
        guard (bin == nil) != (packedTools == nil) else { throw ValidationError("give exactly one of --bin and --packed-tools") }
    }

    public func run() throws {
        do {
            let tools: BundleBuilder.Tools = if let packedTools { .packed(packedTools) } else { .unpacked(bin ?? ".") }
            let text = try FileIO.readText(config, limit: 1 << 20)
            var key: [UInt8]? = nil
            if let sign {
                do { key = try FileIO.readBytes(sign, limit: 16 << 10) } catch {
                    throw PVError(.notFound, "cannot read the signing key \(sign)", cause: error.message)
                }
            }
            let path = try BundleBuilder(resourceID: id, configText: text, templates: templates, tools: tools, signingKey: key).write(to: output)
            var st = stat()
            stat(path, &st)
            Output.line("\(path) (\(Int(st.st_size) / 1024) KiB)")
        } catch let error as PVError {
            throw ErrorReporting.exit(error)
        } catch let error as FileIOError {
            throw ErrorReporting.exit(PVError(.config, "cannot read the configuration", cause: error.message))
        }
    }
}
