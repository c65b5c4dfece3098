import PVCore
import PVDHCP
import PVArchive
import PVDocker
import PVRegistry
import PVComponents
import PVVerification
import PVState
#if canImport(Glibc)
import Glibc
#endif

/// The install, step by step, in order.
public enum Steps {
    public static let all: [InstallStep] = [
        InstallStep("check_system", "the OS, the tools the agent needs, free disk space", run: checkSystem),
        InstallStep("install_docker", "a Docker engine answers (as root: install_docker.sh)", run: installDocker),
        InstallStep("create_user", "the agent's user, in the docker group", run: createUser),
        InstallStep("create_dirs", "the install root and the configuration (mode 0600)", run: createDirs),
        InstallStep("network_config", "the DHCP verification link 198.51.100.1/24", for: .dhcp, run: networkConfig),
        InstallStep("install_libs", "the tools and wrappers into <root>/libs", run: installLibs),
        InstallStep("setup_heartbeat", "the heartbeat units and the sudoers file, verified", run: setupHeartbeat),
        InstallStep("setup_monitor", "pv_monitor.service: the monitoring data daemon, verified, running", run: setupMonitor),
        InstallStep("stop_components", "stop running components before installing", run: stopComponents),
        InstallStep("setup_dns", "download, start, verify the newest working DNS", for: .dns, run: { (ctx) throws(PVError) in try setupComponent(.dns, ctx) }),
        InstallStep("setup_monitoring", "download, start, verify the newest working Monitoring", for: .monitoring, run: { (ctx) throws(PVError) in try setupComponent(.monitoring, ctx) }),
        InstallStep("setup_dhcp", "download, start, verify the newest working DHCP", for: .dhcp, run: { (ctx) throws(PVError) in try setupComponent(.dhcp, ctx) }),
        InstallStep("verify", "TXT pvverify.test = PVOK, a lease from the pool", run: verifyAll),
    ]

    public static func named(_ name: String) -> InstallStep? { all.first { $0.name == name } }

    // MARK: - steps

    static func checkSystem(_ ctx: InstallContext) throws(PVError) -> String {
        let os = (try? FileIO.readText("/etc/os-release", limit: 1 << 16))?.split(separator: "\n")
            .first { $0.hasPrefix("PRETTY_NAME=") }.map { String($0.dropFirst(12)).replacingQuotes() } ?? "unknown OS"
        var missing: [String] = []
        // No python3: the tools carry everything they run on (python3 only serves the optional pv_update.py shim).
        for tool in ["docker", "ip"] where !onPath(tool) { missing.append(tool) }
        if missing.contains("docker") && ctx.isRoot && !ctx.sandbox { missing.removeAll { $0 == "docker" } }  // install_docker brings it
        guard missing.isEmpty else {
            throw PVError(.unavailable, "missing tools: \(missing.joined(separator: ", "))",
                          hint: "install them (docker: install_docker.sh from the bundle; ip: the iproute2 package)")
        }
        let probe = FileIO.isDirectory(ctx.root.path) ? ctx.root.path : FileIO.directoryName(ctx.root.path)
        if case .success(let disk) = DiskUsage.measure(probe) {
            let freeMB = Int(disk.availableBytes / (1 << 20))
            guard freeMB >= 500 else {
                throw PVError(.unavailable, "only \(freeMB) MB free under \(probe)", hint: "free at least 500 MB for the component images")
            }
            return "\(os), \(ctx.isRoot ? "root" : "not root")\(ctx.sandbox ? ", sandbox \(ctx.root.path)" : ""), \(freeMB) MB free"
        }
        return os
    }

    static func installDocker(_ ctx: InstallContext) throws(PVError) -> String {
        let config = try ctx.config()
        let docker = DockerCLI(host: config.dockerHost, runner: ctx.runner)
        if (try? docker.requireEngine()) != nil {
            let v = try docker.run(["version", "--format", "{{.Server.Version}}"], timeout: 10).stdout.split(separator: "\n").first.map { $0.trimmingWhitespace() } ?? ""
            let trust = try RegistryTrust.install(config, ctx).map { "; " + $0 } ?? ""
            return "Docker \(v) answers at \(config.dockerHost)" + trust
        }
        guard ctx.isRoot && !ctx.sandbox else {
            throw PVError(.unavailable, "no Docker engine answers at \(config.dockerHost)",
                          hint: ctx.sandbox ? "start the engine the sandbox's configuration names (in the lab: Scripts/lab up)"
                              : "as root run install_docker.sh from the bundle, or start Docker (systemctl start docker)")
        }
        try ctx.run(Command("/bin/bash", [ctx.bundle + "/install_docker.sh"]), timeout: 900, what: "install_docker.sh")
        try docker.requireEngine(timeout: 30)
        let trust = try RegistryTrust.install(config, ctx).map { "; " + $0 } ?? ""
        return "Docker installed and running" + trust
    }

    static func createUser(_ ctx: InstallContext) throws(PVError) -> String {
        if getpwnam(ctx.user) == nil {
            guard ctx.isRoot && !ctx.sandbox else {
                throw PVError(.notFound, "the user \(ctx.user) does not exist",
                              hint: ctx.sandbox ? "pass --user with an existing user (a sandbox never creates users)"
                                  : "as root: useradd --system --create-home \(ctx.user) && usermod -aG docker \(ctx.user)")
            }
            try ctx.run(Command("useradd", ["--system", "--create-home", "--shell", "/bin/bash", ctx.user]), what: "useradd \(ctx.user)")
        }
        let inDocker = groupMembers("docker").contains(ctx.user) || ctx.user == "root" || primaryGroup(ctx.user) == "docker"
        if !inDocker {
            if ctx.isRoot && !ctx.sandbox && getgrnam("docker") != nil {
                try ctx.run(Command("usermod", ["-aG", "docker", ctx.user]), what: "usermod -aG docker \(ctx.user)")
                return "user \(ctx.user) added to the docker group"
            }
            if ctx.sandbox { return "user \(ctx.user) exists (not in the docker group: checked only, in a sandbox)" }
            throw PVError(.noPermission, "the user \(ctx.user) is not in the docker group", hint: "as root: usermod -aG docker \(ctx.user)")
        }
        return "user \(ctx.user) exists and may use Docker"
    }

    /// The agent's tree. Root works in it through directory descriptors that never follow a link
    /// (DirectoryHandle): the agent's user owns it, and could otherwise swap a directory for a link
    /// to a root file and have root chown it. (No lib/: the tools are static.)
    static let agentDirectories = ["etc", "libs", "state", "logs", "data", "config", "run", "spool"]

    static func createDirs(_ ctx: InstallContext) throws(PVError) -> String {
        let owner: (uid: uid_t, gid: gid_t)? = ctx.isRoot ? getpwnam(ctx.user).map { ($0.pointee.pw_uid, $0.pointee.pw_gid) } : nil
        let root = try DirectoryHandle.open(ctx.root.path)
        var subdirectories: [String: DirectoryHandle] = [:]
        for name in agentDirectories { subdirectories[name] = try root.subdirectory(name) }
        // The step logs' folder too, so that a later install as the agent's user can write its logs.
        let installLogs = try subdirectories["logs"]!.subdirectory("install")
        // pv_monitor's sockets, mounted into the DNS and DHCP containers: made here, the agent's, so
        // that neither Docker (which would make a missing one root's) nor the daemon (whose unit
        // sees the root read-only) has to.
        let monitorSockets = try subdirectories["run"]!.subdirectory("monitor")
        // The bundle's configuration is the one ProVision generated for this server.
        let source = ctx.bundle + "/provision.conf"
        let etc = subdirectories["etc"]!
        if FileIO.exists(source) {
            let text: String
            do { text = try FileIO.readText(source, limit: 1 << 20) } catch { throw PVError(.osError, "cannot read \(source)", cause: error.message) }
            do { _ = try ConfigParser.parse(text, file: source) } catch { throw error.asPVError }
            try etc.writeAtomically("provision.conf", Array(text.utf8), mode: 0o600, owner: owner)
        } else {
            // Kept as it is; its mode and owner set through a descriptor opened without following a link.
            guard try etc.setModeAndOwner(of: "provision.conf", mode: 0o600, owner: owner) else {
                throw PVError(.config, "neither the bundle nor \(ctx.root.path) holds a configuration", hint: "download the bundle again from ProVision")
            }
        }
        if let owner {
            try root.changeOwner(uid: owner.uid, gid: owner.gid)
            for name in agentDirectories { try subdirectories[name]!.changeOwner(uid: owner.uid, gid: owner.gid) }
            try installLogs.changeOwner(uid: owner.uid, gid: owner.gid)
            // Group root and setgid: pv_monitor's dnstap socket (0660) is then the agent's and
            // group root's, which the DNS component's Knot is (root in its container, without
            // the capability to override file modes); no other local user may connect to it.
            try monitorSockets.changeOwner(uid: owner.uid, gid: 0)
            try monitorSockets.changeMode(0o2755)
            // The install's own lock, made before this step by root: the agent's pv_update takes it next.
            _ = try subdirectories["state"]!.setModeAndOwner(of: "update.lock", mode: 0o644, owner: owner)
        }
        return "\(ctx.root.path) ready, configuration mode 0600"
    }

    static func networkConfig(_ ctx: InstallContext) throws(PVError) -> String {
        let config = try ctx.config()
        let server = config.dhcpServerInterface ?? "pvv-srv"
        let client = config.dhcpVerifyInterface
        // The server end holds an address of the verification network (network_config.sh gives it
        // 198.51.100.1; a second instance on the same host needs another one of its own).
        func serverAddress() -> String? {
            guard ctx.environment.host.interfaceExists(server), ctx.environment.host.interfaceExists(client) else { return nil }
            return ctx.environment.host.interfaceAddresses(server).first { IPv4Address($0).map(IPv4Network.verificationPool.contains) ?? false }
        }
        if let address = serverAddress() { return "\(server) (\(address)/24) <-> \(client) present" }
        guard ctx.isRoot && !ctx.sandbox else {
            throw PVError(.notFound, "the verification link \(server) <-> \(client) with 198.51.100.1/24 is missing",
                          hint: ctx.sandbox ? "create it first (in the lab: Scripts/lab up)" : "as root run network_config.sh from the bundle")
        }
        try ctx.run(Command("/bin/bash", [ctx.bundle + "/network_config.sh", server, client]), what: "network_config.sh")
        guard serverAddress() != nil else { throw PVError(.osError, "network_config.sh ran but the link is still missing") }
        return "created \(server) (198.51.100.1/24) <-> \(client)"
    }

    static func installLibs(_ ctx: InstallContext) throws(PVError) -> String {
        var count = 0
        let libs = try DirectoryHandle.open(ctx.root.join("libs"))
        // Root installing for the agent (its root-only part): the tools stay the agent's to update.
        let owner = AgentTree.ownerForRoot(ctx.root)
        if let owner { try libs.changeOwner(uid: owner.uid, gid: owner.gid) }
        // Only the bundle's own files (SHA256SUMS and TOOLS.SHA256SUMS list them): a bundle extracted
        // into a home directory shares bin/ with the user's own programs, which are never installed.
        let listed = FileIO.exists(ctx.bundle + "/" + Manifest.fileName)
            ? Set(try BundleArchive.listedPaths(bundle: ctx.bundle) + BundleTools.listedTools(bundle: ctx.bundle)) : nil
        for sub in ["bin", "libs"] {
            let from = ctx.bundle + "/" + sub
            guard let names = FileIO.listDirectory(from)?.filter({ listed?.contains(sub + "/" + $0) ?? true }) else { continue }
            // pv_install.gz only starts the entry script's pv_install; dot files are staging leftovers;
            // the DHCP check helper goes to a root-owned place of its own (below), never to libs/.
            for name in names.sorted() where !name.hasPrefix(".") && !name.hasSuffix(".gz") && name != DHCPCheckHelper.name {
                // Copy then rename: a running tool keeps its old inode, never a half-written file.
                let bytes: [UInt8]
                do { bytes = try FileIO.readBytes(from + "/" + name, limit: 128 << 20) } catch {
                    throw PVError(.osError, "cannot read \(from)/\(name)", cause: error.message)
                }
                let mode = FileIO.modeAndOwner(from + "/" + name)?.mode ?? 0o755
                try libs.writeAtomically(name, bytes, mode: mode & 0o755, owner: owner)
                count += 1
            }
        }
        guard count > 0 else { throw PVError(.notFound, "the bundle at \(ctx.bundle) holds no tools", hint: "download the bundle again") }
        var detail = "\(count) files in \(ctx.root.join("libs"))"
        // The verifier: this pv_install, root's, outside the agent's tree, where a later install on a
        // server that pins a signing key starts (README: what each install trusts).
        let verifierSource = ctx.bundle + "/bin/pv_install"
        if ctx.isRoot, FileIO.exists(verifierSource) {
            let bytes: [UInt8]
            do { bytes = try FileIO.readBytes(verifierSource, limit: 128 << 20) } catch {
                throw PVError(.osError, "cannot read \(verifierSource)", cause: error.message)
            }
            let target = ctx.systemPath(RootOwnedPaths.verifier)
            do {
                try PrivilegedInstall.install(bytes, as: target, capability: nil)
                detail += "; \(target) (root's: the verifier for later bundles)"
            } catch where ctx.sandbox && error.code == .noPermission {
                // A sandbox root that the agent's user owns cannot hold a root-only chain: no verifier there.
                detail += "; no verifier in this sandbox (\(error.message))"
            }
        }
        // The DHCP check helper: root-owned, outside the agent's tree, with cap_net_raw (see DHCPCheckHelper).
        // Only where DHCP runs: a privileged program the server does not need is not installed.
        let helperSource = ctx.bundle + "/bin/" + DHCPCheckHelper.name
        if FileIO.exists(helperSource), (try? ctx.config())?.isEnabled(.dhcp) ?? true {
            let target = ctx.systemPath(DHCPCheckHelper.installedPath)
            if ctx.isRoot {
                let bytes: [UInt8]
                do { bytes = try FileIO.readBytes(helperSource, limit: 128 << 20) } catch {
                    throw PVError(.osError, "cannot read \(helperSource)", cause: error.message)
                }
                try PrivilegedInstall.install(bytes, as: target, capability: PrivilegedInstall.netRawCapability)
                detail += "; \(target) (root, cap_net_raw)"
            } else if !FileIO.exists(target) {
                detail += "; \(target) is missing (root-only: run pv_install -e install_libs as root)"
            }
        }
        return detail
    }

    static func setupHeartbeat(_ ctx: InstallContext) throws(PVError) -> String {
        // Without root an admin has installed these (RootOnlyChecks listed how): checked, never written.
        guard ctx.isRoot else { return try UnitSetupCheck.heartbeat(ctx).verify() }
        let unitDir = ctx.systemPath("/etc/systemd/system")
        let sudoDir = ctx.systemPath("/etc/sudoers.d")
        for d in [unitDir, sudoDir] {
            do { try FileIO.makeDirectories(d) } catch { throw PVError(.cantCreate, "cannot create \(d)", cause: error.message) }
        }
        var written: [String] = []
        for unit in ["pv_heartbeat.service", "pv_heartbeat.timer"] {
            let text = try render(ctx.bundle + "/systemd/" + unit, ctx)
            let target = unitDir + "/" + unit
            do { try FileIO.writeAtomically(target, text, mode: 0o644) } catch { throw PVError(.cantCreate, "cannot write \(target)", cause: error.message) }
            written.append(target)
        }
        if onPath("systemd-analyze") {
            // verify needs the ExecStart binary to exist: it does, install_libs ran.
            try ctx.run(Command("systemd-analyze", ["verify"] + written), timeout: 60, what: "systemd-analyze verify of the heartbeat units")
        }
        let family = osFamily()
        let sudoers = try render(ctx.bundle + "/sudoers/provision.\(family)", ctx)
        let sudoTarget = sudoDir + "/provision"
        do { try FileIO.writeAtomically(sudoTarget, sudoers, mode: 0o440) } catch { throw PVError(.cantCreate, "cannot write \(sudoTarget)", cause: error.message) }
        if onPath("visudo") {
            try ctx.run(Command("visudo", ["-c", "-f", sudoTarget]), timeout: 30, what: "visudo -c of \(sudoTarget)")
        }
        if !ctx.sandbox && ctx.isRoot && FileIO.isDirectory("/run/systemd/system") {
            try ctx.run(Command("systemctl", ["daemon-reload"]), what: "systemctl daemon-reload")
            try ctx.run(Command("systemctl", ["enable", "--now", "pv_heartbeat.timer"]), what: "enabling pv_heartbeat.timer")
            return "pv_heartbeat.timer enabled (every 30 s)"
        }
        return "units in \(unitDir), sudoers in \(sudoTarget) (\(family)); both verified" + (ctx.sandbox ? "; not enabled in a sandbox" : "; systemd is not running here")
    }

    /// The daemon's unit, written and verified like the heartbeat's, then enabled and (re)started
    /// where systemd runs: a restart, so that a reinstall's new pv_monitor is the one running.
    static func setupMonitor(_ ctx: InstallContext) throws(PVError) -> String {
        guard ctx.isRoot else { return try UnitSetupCheck.monitor(ctx).verify() }
        let unitDir = ctx.systemPath("/etc/systemd/system")
        do { try FileIO.makeDirectories(unitDir) } catch { throw PVError(.cantCreate, "cannot create \(unitDir)", cause: error.message) }
        let target = unitDir + "/pv_monitor.service"
        let text = try render(ctx.bundle + "/systemd/pv_monitor.service", ctx)
        do { try FileIO.writeAtomically(target, text, mode: 0o644) } catch { throw PVError(.cantCreate, "cannot write \(target)", cause: error.message) }
        if onPath("systemd-analyze") {
            try ctx.run(Command("systemd-analyze", ["verify", target]), timeout: 60, what: "systemd-analyze verify of pv_monitor.service")
        }
        guard !ctx.sandbox && FileIO.isDirectory("/run/systemd/system") else {
            return "\(target) verified" + (ctx.sandbox ? "; not enabled in a sandbox" : "; systemd is not running here")
        }
        try ctx.run(Command("systemctl", ["daemon-reload"]), what: "systemctl daemon-reload")
        try ctx.run(Command("systemctl", ["enable", "pv_monitor.service"]), what: "enabling pv_monitor.service")
        try ctx.run(Command("systemctl", ["restart", "pv_monitor.service"]), timeout: 30, what: "starting pv_monitor.service")
        // Running means listening: the socket the DNS component's dnstap sender connects to.
        let socket = ctx.root.join("run", "monitor", "dnstap.sock")
        let deadline = ctx.environment.clock.monotonic() + 10
        while !FileIO.exists(socket) {
            guard ctx.environment.clock.monotonic() < deadline else {
                throw PVError(.unavailable, "pv_monitor.service started but \(socket) did not appear within 10 s",
                              hint: "systemctl status pv_monitor.service and journalctl -u pv_monitor.service say why")
            }
            usleep(100_000)
        }
        return "pv_monitor.service enabled and running, listening on \(socket)"
    }

    static func stopComponents(_ ctx: InstallContext) throws(PVError) -> String {
        let context = try ctx.lifecycle()
        let stop = ComponentStop(context: context)
        var stopped: [String] = []
        var removed: [String] = []
        for c in Component.allCases {
            let enabled = context.config.isEnabled(c)
            // A component no longer enabled is stopped and its container removed for good (its
            // setup step is skipped); the enabled ones start again in their own steps.
            if !enabled, try context.container(c) != nil { removed.append(context.containerName(c)) }
            if case .stopped(let v) = try stop.stop(c), enabled { stopped.append("\(c.rawValue)\(v.map { " \($0)" } ?? "")") }
        }
        var parts: [String] = []
        if !stopped.isEmpty { parts.append("stopped \(stopped.joined(separator: ", "))") }
        if !removed.isEmpty {
            parts.append("removed \(removed.joined(separator: ", ")) (not enabled: components = \(context.config.enabledComponents.map(\.rawValue).joined(separator: ", ")))")
        }
        return parts.isEmpty ? "nothing was running" : parts.joined(separator: "; ")
    }

    /// The newest version that passes verification: tries the registry's
    /// versions newest first, skipping those that failed before, and keeps the
    /// first that works (a broken newest release does not break the install).
    static func setupComponent(_ component: Component, _ ctx: InstallContext) throws(PVError) -> String {
        var life = try ctx.lifecycle()
        life.readiness = LiveReadinessProbe()
        let context = life
        let registry = LiveRegistryCatalog(config: context.config, environment: ctx.environment)
        var updater = ComponentUpdate(context: context, registry: registry, verify: { ComponentVerification(context: context).check($0) })
        updater.verifyDNSAt = { ComponentVerification(context: context).dns(at: $0) }
        if let recovered = try updater.recover(component) { ctx.progress(.recovered(recovered)) }
        let failed = try context.state.load()[component].failed
        let candidates = VersionSelection.versions(in: try registry.tags(for: component), includePrereleases: false)
            .filter { !failed.contains($0) }.reversed()
        guard !candidates.isEmpty else {
            throw PVError(.notFound, "the registry \(context.config.registry) has no usable version of \(component.rawValue)",
                          hint: failed.isEmpty ? "push an image to \(context.config.registry)/\(context.config.image(for: component))"
                              : "every version failed before; pv_update \(component.rawValue) --force -v VERSION retries one")
        }
        var skipped: [String] = []
        for version in candidates {
            do throws(PVError) {
                let outcome = try updater.update(component, options: .init(requested: version))
                if case .upToDate = outcome {
                    // It already ran at this version: make sure it still passes before recording it.
                    let check = ComponentVerification(context: context).check(component)
                    guard check.passed else { throw PVError(.checkFailed, "\(component.rawValue) \(version) fails verification: \(check.detail)") }
                    try context.state.update { $0[component].verified = version; $0[component].running = version }
                }
                let note = skipped.isEmpty ? "" : " (skipped \(skipped.joined(separator: ", ")))"
                return "\(component.rawValue) \(version) runs and passes verification\(note)"
            } catch where error.code == .checkFailed {
                ctx.progress(.note(error.description))
                skipped.append("\(version): failed verification")
            }
        }
        throw PVError(.checkFailed, "no version of \(component.rawValue) passes verification (\(skipped.joined(separator: "; ")))",
                      hint: "see the step's log; debug a version with start_pv_\(component.rawValue).sh -b -v VERSION")
    }

    static func verifyAll(_ ctx: InstallContext) throws(PVError) -> String {
        let config = try ctx.config()
        let checks = Verifier(config: config, root: ctx.root).run(.all)
        guard !checks.isEmpty else { return "nothing to verify: neither dns nor dhcp is enabled (components = \(config.enabledComponents.map(\.rawValue).joined(separator: ", ")))" }
        for c in checks { ctx.progress(.note(c.line)) }
        if let bad = checks.first(where: { !$0.passed }) {
            throw PVError(.checkFailed, "\(bad.name) verification failed: \(bad.detail)", hint: bad.hint)
        }
        return checks.map { "\($0.name) ok" }.joined(separator: ", ")
    }

    // MARK: - helpers

    /// Fills a bundle template for this server: its user and its root.
    static func render(_ path: String, _ ctx: InstallContext) throws(PVError) -> String {
        let text: String
        do { text = try FileIO.readText(path, limit: 1 << 20) } catch {
            throw PVError(.notFound, "the bundle lacks \(path)", hint: "download the bundle again", cause: error.message)
        }
        return TemplateRendering.render(text, root: ctx.root.path, user: ctx.user)
    }

    static func osFamily() -> String {
        let text = (try? FileIO.readText("/etc/os-release", limit: 1 << 16)) ?? ""
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("ID=") || $0.hasPrefix("ID_LIKE=") }.joined(separator: " ")
        return ids.contains("rhel") || ids.contains("centos") || ids.contains("fedora") ? "centos" : "ubuntu"
    }

    static func onPath(_ tool: String) -> Bool {
        let path = ProcessEnvironmentBlock.current["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { access("\($0)/\(tool)", X_OK) == 0 }
    }


    static func groupMembers(_ group: String) -> [String] {
        guard let g = getgrnam(group), var p = g.pointee.gr_mem else { return [] }
        var members: [String] = []
        while let m = p.pointee { members.append(String(decoding: UnsafeRawBufferPointer(start: m, count: strlen(m)), as: UTF8.self)); p += 1 }
        return members
    }

    static func primaryGroup(_ user: String) -> String? {
        guard let pw = getpwnam(user), let g = getgrgid(pw.pointee.pw_gid) else { return nil }
        return String(cString: g.pointee.gr_name)
    }
}

extension String {
    func replacingQuotes() -> String { replacingAll("\"", with: "") }
    func replacingAll(_ a: String, with b: String) -> String {
        guard !a.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: a) {
            out += rest[..<r.lowerBound] + b
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
