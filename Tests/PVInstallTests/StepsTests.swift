import Testing
import PVCore
import PVTestSupport
import PVState
@testable import PVInstall

/// Install steps run in-process in a sandbox root, against a scripted docker: what each does to
/// the root, what it asks Docker, and how it fails.
@Suite struct StepsTests {
    /// A bundle directory holding what the steps read: provision.conf, bin/, libs/.
    func makeBundle(configuration: String = testConfigText) throws -> String {
        let bundle = scratchDirectory()
        try FileIO.writeAtomically(bundle + "/provision.conf", configuration, mode: 0o600)
        try FileIO.makeDirectories(bundle + "/bin")
        try FileIO.makeDirectories(bundle + "/libs")
        try FileIO.writeAtomically(bundle + "/bin/pv_verify", "#!tool\n", mode: 0o755)
        try FileIO.writeAtomically(bundle + "/bin/pv_install.gz", "gz", mode: 0o644)
        try FileIO.writeAtomically(bundle + "/bin/.staging-1", "left over", mode: 0o644)
        try FileIO.writeAtomically(bundle + "/bin/pv_dhcp_probe", "#!helper\n", mode: 0o755)
        try FileIO.writeAtomically(bundle + "/libs/start_pv_dns.sh", "#!/bin/bash\n", mode: 0o755)
        return bundle
    }

    func context(root: String, bundle: String, runner: any ProcessRunner = FakeRunner { _ in ProcessOutput(status: 1) },
                 events: RecordedOutput = RecordedOutput()) -> InstallContext {
        let sink = events.sink
        return InstallContext(environment: .test(root: root, processes: runner), bundle: bundle, sandbox: true, user: "nobody",
                              progress: { sink.line($0.text) })
    }

    @Test func createDirsMakesTheTreeAndInstallsTheBundlesConfigurationPrivately() throws {
        let root = scratchDirectory()
        defer { removeTree(root) }
        let bundle = try makeBundle()
        defer { removeTree(bundle) }
        let detail = try Steps.createDirs(context(root: root, bundle: bundle))
        #expect(detail == "\(root) ready, configuration mode 0600")
        for name in Steps.agentDirectories { #expect(FileIO.isDirectory(root + "/" + name), "\(name)") }
        #expect(FileIO.isDirectory(root + "/logs/install"))
        #expect(FileIO.modeAndOwner(root + "/etc/provision.conf")?.mode == 0o600)
        #expect(try FileIO.readText(root + "/etc/provision.conf", limit: 1 << 16) == testConfigText)
    }

    @Test func aBundleConfigurationThatDoesNotParseLeavesTheInstalledOneAlone() throws {
        try withScratchRoot { root in
            let bundle = try makeBundle(configuration: testConfigText + "\nno_such_key = 1\n")
            defer { removeTree(bundle) }
            let error = failure { () throws(PVError) in _ = try Steps.createDirs(context(root: root, bundle: bundle)) }
            #expect(error?.code == .config)
            #expect(try FileIO.readText(root + "/etc/provision.conf", limit: 1 << 16) == testConfigText)
        }
    }

    @Test func installLibsCopiesTheToolsButNotTheStarterLeftoversOrTheHelper() throws {
        try withScratchRoot { root in
            try FileIO.makeDirectories(root + "/libs")
            let bundle = try makeBundle()
            defer { removeTree(bundle) }
            let detail = try Steps.installLibs(context(root: root, bundle: bundle))
            #expect(FileIO.listDirectory(root + "/libs")?.sorted() == ["pv_verify", "start_pv_dns.sh"])
            #expect(FileIO.modeAndOwner(root + "/libs/pv_verify")?.mode == 0o755)
            // Not root: the helper's root-only place is named, never written.
            #expect(detail.hasPrefix("2 files in \(root)/libs; "))
            #expect(detail.hasSuffix("pv_dhcp_probe is missing (root-only: run pv_install -e install_libs as root)"))
            #expect(!FileIO.exists(root + "/system/usr/libexec/provision/pv_dhcp_probe"))
        }
    }

    @Test func stopComponentsStopsWhatRunsAndSaysWhich() throws {
        try withScratchRoot { root in
            let runner = FakeRunner { args in
                switch args.first {
                case "version": return ProcessOutput(status: 0, stdout: "20.10.24\n")
                case "container":
                    let name = args.last!
                    guard name == "pv-dns" else { return ProcessOutput(status: 1, stderr: "Error: No such container: \(name)\n") }
                    return ProcessOutput(status: 0, stdout: inspectLine(name: "pv-dns", version: "1.1.0") + "\n")
                case "stop", "rm":
                    let name = args.last!
                    guard name == "pv-dns" else { return ProcessOutput(status: 1, stderr: "Error response from daemon: No such container: \(name)\n") }
                    return ProcessOutput(status: 0)
                default: return ProcessOutput(status: 1, stderr: "unexpected docker \(args)\n")
                }
            }
            // The version stopped is the one the state file records as running (pv_start wrote it).
            try StateStore(root: InstallRoot(path: root)).update { $0[.dns].running = Version("1.1.0") }
            let detail = try Steps.stopComponents(context(root: root, bundle: root, runner: runner))
            #expect(detail == "stopped dns 1.1.0")
            #expect(runner.verbs.filter { $0 == "rm" }.count == 1, "only what exists is removed")
        }
    }

    @Test func noEngineInASandboxNamesTheLab() throws {
        try withScratchRoot { root in
            let runner = FakeRunner { _ in ProcessOutput(status: 1, stderr: "Cannot connect to the Docker daemon at unix:///tmp/fake.sock\n") }
            let error = failure { () throws(PVError) in _ = try Steps.installDocker(context(root: root, bundle: root, runner: runner)) }
            #expect(error?.code == .unavailable)
            #expect(error?.hint == "start the engine the sandbox's configuration names (in the lab: Scripts/lab up)")
            #expect(!runner.calls.contains { $0.first == "/bin/bash" }, "a sandbox never runs install_docker.sh")
        }
    }

    @Test func execOnlyKeepsTheInstallsOrderAndRefusesUnknownSteps() throws {
        var run = InstallRun(environment: .failing(root: InstallRoot(path: "/nonexistent")), execOnly: "verify, create_dirs")
        #expect(try run.selectedSteps().map(\.name) == ["create_dirs", "verify"])
        run.execOnly = "create_dirs,nope"
        let error = failure { () throws(PVError) in _ = try run.selectedSteps() }
        #expect(error?.code == .usage)
        #expect(error?.message == "unknown step 'nope'")
        run.execOnly = " , "
        #expect(failure { () throws(PVError) in _ = try run.selectedSteps() }?.code == .usage)
    }
}
