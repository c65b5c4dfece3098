import ArgumentParser
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// `--root DIR`, shared by every tool. Falls back to `PV_ROOT`, then `/provision`.
public struct RootOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Install root (default: $PV_ROOT, else /provision).", valueName: "DIR"))
    public var root: String?

    public init() {}

    public func resolve(environment: [String: String] = ProcessEnvironmentBlock.current) -> InstallRoot {
        InstallRoot.resolve(option: root, environment: environment)
    }
}

/// Turns a PVError into the tool's message and exit code. Messages go to
/// stderr so that `--json` output on stdout stays machine-readable.
public enum ErrorReporting {
    public static func exit(_ error: PVError) -> ExitCode {
        Output.error("Error: \(error)")
        return ExitCode(error.code.rawValue)
    }
}
