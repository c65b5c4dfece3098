import Foundation
import Testing

extension LabIntegration {
    /// The install bundle and pv_install, on the lab, in sandboxes.
    @Suite struct InstallIntegrationTests {
        /// A bundle for a test server: the lab's configuration under its own resource ID, the built tools.
        static func makeBundle(_ name: String, overriding: [String: String] = [:]) throws -> (tar: String, dir: String) {
            let work = try Lab.scratchRoot("bundle-\(name)", overriding: ["resource_id": name].merging(overriding) { $1 })
            let r = try tool("pv_bundle", ["--id", name, "--config", work + "/etc/provision.conf", "--bin", Lab.binDir,
                                           "--templates", Lab.repo.path + "/Bundle", "--output", work])
            #expect(r.status == 0, "\(r.output)")
            return (work + "/setup-\(name).tar", work)
        }

        /// `tar -xf setup-<ID>.tar` as the admin does, into a fresh directory.
        static func extract(_ tar: String) throws -> String {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvbundle-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let r = try run("/bin/tar", ["-xf", tar, "-C", dir])
            #expect(r.status == 0, "\(r.output)")
            return dir
        }

        func installScript(_ bundle: String, _ args: [String]) throws -> RunResult {
            try run("/bin/bash", [bundle + "/install_python3.sh"] + args, timeout: 300)
        }

        @Test func manualInstallEndsInPVOKAndRerunsToTheSameState() throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-install")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let bundle = try Self.extract(tar)
            let root = work + "/root"
            var r = try installScript(bundle, ["--root", root])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.split(separator: "\n").last == "PVOK", "\(r.stdout)")
            for (i, step) in ["check_system", "install_docker", "create_user", "create_dirs", "network_config", "install_libs",
                              "setup_heartbeat", "setup_monitor", "stop_components", "setup_dns", "setup_monitoring", "setup_dhcp", "verify"].enumerated() {
                #expect(r.stdout.contains("[\(i + 1)/13] \(step) ... ok ("), "\(step): \(r.stdout)")
                #expect(FileManager.default.fileExists(atPath: root + "/logs/install/\(step).log"))
            }
            // Installed where the documentation says, in the sandbox.
            for f in ["libs/pv_update", "libs/pv_update.py", "libs/pv_install", "libs/pv_install.py", "libs/start_pv_dns.sh", "libs/stop_pv_dhcp.sh", "etc/provision.conf",
                      "system/etc/systemd/system/pv_heartbeat.timer", "system/etc/systemd/system/pv_monitor.service",
                      "system/etc/sudoers.d/provision", "libs/pv_monitor"] {
                #expect(FileManager.default.fileExists(atPath: root + "/" + f), "\(f)")
            }
            let mode = try FileManager.default.attributesOfItem(atPath: root + "/etc/provision.conf")[.posixPermissions] as? Int
            #expect(mode == 0o600)
            let first = try tool("pv_status", ["--json", "--root", root]).stdout

            r = try installScript(bundle, ["--root", root])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("[9/13] stop_components ... ok") && r.stdout.contains("stopped dns"), "a reinstall stops the components first")
            #expect(r.stdout.split(separator: "\n").last == "PVOK")
            let second = try tool("pv_status", ["--json", "--root", root]).stdout
            func versions(_ json: String) throws -> [String] {
                let doc = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
                return (doc["components"] as! [[String: Any]]).map { "\($0["component"]!) \($0["state"]!) \($0["version"]!) \($0["verified_version"]!)" }
            }
            #expect(try versions(first) == versions(second), "the same state after a reinstall")
            // The python3 compatibility shim runs the Swift updater: the same lines, the same status.
            let shim = try run("/usr/bin/python3", [root + "/libs/pv_update.py", "--check"], environment: ["PV_ROOT": root])
            let direct = try run(root + "/libs/pv_update", ["--check"], environment: ["PV_ROOT": root])
            #expect(shim.status == 0 && shim.status == direct.status, "\(shim.output)")
            #expect(shim.stdout == direct.stdout)
            #expect(shim.stdout.split(separator: "\n").map { $0.split(separator: ":").first ?? "" } == ["dns", "dhcp", "monitoring"],
                    "\(shim.stdout)")
            // pv_install.py (the seed's name, Push Install's): pv_install's steps, lines and status.
            func withoutTimes(_ text: String) -> String {
                text.replacingOccurrences(of: #"\([0-9.]+ s\)"#, with: "(t)", options: .regularExpression)
            }
            let installShim = try run("/usr/bin/python3", [root + "/libs/pv_install.py", "-e", "setup_dns,verify", "--root", root])
            let installDirect = try run(root + "/libs/pv_install", ["-e", "setup_dns,verify", "--root", root])
            #expect(installShim.status == 0 && installDirect.status == 0, "\(installShim.output)")
            #expect(withoutTimes(installShim.stdout) == withoutTimes(installDirect.stdout))
            #expect(installShim.stdout.contains("[13/13] verify ... ok"), "\(installShim.stdout)")
            let badStep = try run("/usr/bin/python3", [root + "/libs/pv_install.py", "--exec-only=no_such_step", "--root", root])
            #expect(badStep.status == 64 && badStep.stderr.contains("unknown step 'no_such_step'"), "\(badStep.output)")
            // As root, neither shim runs a tool the agent's user could have changed.
            for (shimName, toolName) in [("pv_install.py", "pv_install"), ("pv_update.py", "pv_update")] {
                _ = try run("/bin/chown", ["nobody", root + "/libs/" + toolName])
                let refused = try run("/usr/bin/python3", [root + "/libs/" + shimName, "-h"])
                #expect(refused.status == 77 && refused.stderr.contains("the agent's user can change it"), "\(refused.output)")
                _ = try run("/bin/chown", ["root", root + "/libs/" + toolName])
            }
        }

        @Test func jsonEventsAndSingleSteps() throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-json")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let bundle = try Self.extract(tar)
            let r = try run(bundle + "/bin/pv_install", ["--bundle", bundle, "--root", work + "/root", "--json", "-e", "verify,check_system"])
            #expect(r.status == 0, "\(r.output)")
            let events = try r.stdout.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            #expect(events.map { "\($0["event"]!) \($0["step"] ?? "-")" } == ["start check_system", "ok check_system", "start verify", "ok verify", "result -"])
            #expect(events.dropLast().allSatisfy { $0["total"] as? Int == 13 && $0.keys.contains("component") })
            #expect(events.last?["ok"] as? Bool == true && events.last?["exit_code"] as? Int == 0)
            let bad = try run(bundle + "/bin/pv_install", ["--bundle", bundle, "--root", work + "/root", "-e", "setup_dsn"])
            #expect(bad.status == 64)
            #expect(bad.stderr.contains("unknown step 'setup_dsn'") && bad.stderr.contains("setup_dns"))
        }

        @Test func aFailedStepNamesItselfItsLogAndTheRerunCommand() throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-fail", overriding: ["registry": "127.0.0.1:1"])
            defer { try? FileManager.default.removeItem(atPath: work) }
            let bundle = try Self.extract(tar)
            let root = work + "/root"
            let r = try installScript(bundle, ["--root", root, "-e", "create_dirs,setup_dns"])
            #expect(r.status == 69, "\(r.output)")
            #expect(r.stderr.contains("install failed at step setup_dns: cannot reach the registry 127.0.0.1:1"), "\(r.stderr)")
            #expect(r.stderr.contains("read \(root)/logs/install/setup_dns.log"))
            #expect(r.stderr.contains("rerun only this step: pv_install -e setup_dns --root \(root)"))
            #expect(!r.stdout.contains("PVOK"))
            #expect(r.stdout.split(separator: "\n").last?.hasPrefix("install FAILED") == true)
            let v = try tool("pv_verify", ["dns", "--root", Lab.root])
            #expect(v.status == 0, "the running DNS is untouched")
        }

        @Test(arguments: ["dotdot", "absolute", "symlink", "hardlink", "device", "mismatch", "truncated"])
        func hostileBundlesAreRefusedBeforeWritingOutside(kind: String) throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-evil")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let outside = work + "/outside"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            let canary = outside + "/canary"
            if kind == "hardlink" { try "original\n".write(toFile: canary, atomically: true, encoding: .utf8) }
            let evil = work + "/evil.tar"
            let made = try run("/usr/bin/python3", [Lab.repo.path + "/Tests/Fixtures/hostile_bundle.py", kind, tar, evil, canary])
            #expect(made.status == 0, "\(made.output)")
            let root = work + "/root"
            let r = try tool("pv_install", ["--from-archive", evil, "--root", root, "-e", "check_system"])
            #expect(r.status == 65, "\(kind): \(r.output)")
            #expect(r.stderr.contains("refusing the archive") || r.stderr.contains("manifest"), "\(kind): \(r.stderr)")
            #expect(!r.stdout.contains("check_system ... ok"), "nothing ran")
            if kind == "hardlink" {
                #expect(try String(contentsOfFile: canary, encoding: .utf8) == "original\n")
            } else {
                #expect(!FileManager.default.fileExists(atPath: canary), "\(kind) wrote outside the extraction directory")
            }
            #expect(!FileManager.default.fileExists(atPath: work + "/canary"))
            // Nothing partly extracted is left in the install root.
            let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
                + ((try? FileManager.default.contentsOfDirectory(atPath: root + "/system/var/lib/provision")) ?? [])
            #expect(leftovers.filter { $0.hasPrefix("bundle") }.isEmpty, "\(kind): left \(leftovers)")
        }

        /// The seed's manual install where an admin really types it: in a home directory holding
        /// dotfiles, the tar itself, a Downloads folder and a ~/bin of the user's own programs, then
        /// `tar -xf setup-<ID>.tar` and install_python3.sh there. What the manifest does not list is
        /// never read, run or installed (an unlisted setuid file in the bundle's libs/ neither),
        /// and the install ends in PVOK.
        @Test func theSeedsCommandsWorkInAHomeDirectoryAndInstallOnlyTheBundlesOwnFiles() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let (tar, work) = try Self.makeBundle("it-home")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let home = work + "/home/admin"
            for d in ["Downloads", "bin", "libs"] { try FileManager.default.createDirectory(atPath: home + "/" + d, withIntermediateDirectories: true) }
            for (file, text) in [(".bashrc", "alias ll='ls -l'\n"), (".profile", "PATH=$HOME/bin:$PATH\n"), ("Downloads/notes.txt", "todo\n")] {
                try text.write(toFile: home + "/" + file, atomically: true, encoding: .utf8)
            }
            #expect(FileManager.default.createFile(atPath: home + "/bin/backup.sh", contents: Data("#!/bin/sh\necho mine\n".utf8),
                                                   attributes: [.posixPermissions: 0o755]))
            #expect(FileManager.default.createFile(atPath: home + "/libs/pv_extra", contents: Data("#!/bin/sh\nid\n".utf8),
                                                   attributes: [.posixPermissions: 0o4755]))
            try FileManager.default.copyItem(atPath: tar, toPath: home + "/setup-it-home.tar")
            let root = work + "/root"
            let r = try run("/bin/bash", ["-c", "cd \(home) && tar -xf setup-it-home.tar && /bin/bash install_python3.sh --root \(root)"], timeout: 300)
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.split(separator: "\n").last == "PVOK", "\(r.stdout)")
            let installed = try FileManager.default.contentsOfDirectory(atPath: root + "/libs")
            #expect(installed.contains("pv_verify") && installed.contains("start_pv_dns.sh"), "\(installed)")
            #expect(!installed.contains("pv_extra") && !installed.contains("backup.sh"), "only the bundle's own files: \(installed)")
            // The user's own files are as they were.
            #expect(try String(contentsOfFile: home + "/bin/backup.sh", encoding: .utf8) == "#!/bin/sh\necho mine\n")
            #expect(try String(contentsOfFile: home + "/.bashrc", encoding: .utf8) == "alias ll='ls -l'\n")
        }

        /// tar -xf as root restores the archive's owners and modes, which the signature does not
        /// cover: a file of another user's, one that every user may write, or a setuid one stops the
        /// entry script before anything of the bundle runs, naming the file and tar --no-same-owner.
        @Test(arguments: ["owner", "world-writable", "setuid"])
        func headersThatHandTheBundleToAnotherUserAreRefused(kind: String) throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-owner-\(kind)")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let altered = work + "/altered.tar"
            let target = kind == "owner" ? "install_python3.sh" : "bin/pv_install"
            let script = """
                import sys, tarfile
                src, dst, kind, target = sys.argv[1:]
                with tarfile.open(src) as i, tarfile.open(dst, "w", format=tarfile.GNU_FORMAT) as o:
                    for m in i.getmembers():
                        data = i.extractfile(m) if m.isfile() else None
                        if m.name == target:
                            if kind == "owner": m.uid, m.uname = 65534, "nobody"
                            elif kind == "world-writable": m.mode = 0o777
                            else: m.mode = 0o4755
                        o.addfile(m, data)
                """
            let made = try run("/usr/bin/python3", ["-c", script, tar, altered, kind, target])
            #expect(made.status == 0, "\(made.output)")
            let dir = try Self.extract(altered)  // as root: owners and modes restored
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let marker = dir + "/bin/.pv_install.partial"
            let r = try installScript(dir, ["--root", work + "/root"])
            #expect(r.status == 77, "\(kind): \(r.output)")
            let why = ["owner": "is owned by nobody (uid 65534)", "world-writable": "is writable by others (mode 777)", "setuid": "is setuid or setgid"][kind]!
            #expect(r.stdout.contains("refusing to run the bundle: \(dir)/\(target) \(why)"), "\(r.stdout)")
            #expect(r.stdout.contains("tar --no-same-owner --no-same-permissions -xf setup-<ID>.tar"), "\(r.stdout)")
            #expect(!FileManager.default.fileExists(atPath: marker), "pv_install was never unpacked")
            #expect(!FileManager.default.fileExists(atPath: work + "/root"), "nothing was installed")
        }

        /// bash reads a script as it runs it: a change to install_python3.sh made while it runs (here
        /// by a sha256sum that rewrites it after checking) must change nothing of what runs.
        @Test func theEntryScriptRunsOnlyWhatItReadWhole() throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-whole")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let dir = try Self.extract(tar)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let fake = work + "/fakebin", marker = work + "/ran"
            try FileManager.default.createDirectory(atPath: fake, withIntermediateDirectories: true)
            // The real check first, then the script rewritten in place (the same inode bash reads):
            // whatever bash reads next from its offset is a comment, then the marker.
            let rewrite = """
                #!/bin/bash
                /usr/bin/sha256sum "$@"; rc=$?
                f=\(dir)/install_python3.sh
                n=$(wc -c < "$f")
                { yes '#' | head -c $((n + 16)); echo; echo "touch \(marker)"; echo "exit 0"; } > "$f.new"
                cat "$f.new" > "$f"
                exit $rc
                """
            #expect(FileManager.default.createFile(atPath: fake + "/sha256sum", contents: Data(rewrite.utf8), attributes: [.posixPermissions: 0o755]))
            let r = try run("/bin/bash", [dir + "/install_python3.sh", "--prepare-only"],
                            environment: ["PATH": fake + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
            #expect(!FileManager.default.fileExists(atPath: marker), "lines written into the script while it ran were run: \(r.output)")
        }

        @Test func withoutRootTheMissingRootOnlyPartsAreListed() throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-nonroot")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let bundle = try Self.extract(tar)
            _ = try run("/bin/chmod", ["-R", "a+rX", work, bundle])
            let r = try run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", bundle + "/bin/pv_install",
                                                 "--bundle", bundle, "--root", work + "/root"])
            #expect(r.status == 77, "\(r.output)")
            #expect(r.stderr.contains("nobody is not in the docker group: as root, run install_docker.sh"), "\(r.stderr)")
            #expect(r.stderr.contains("does not exist: as root, mkdir") || r.stderr.contains("is not owned by nobody"))
            #expect(r.stderr.contains("the heartbeat units are not installed"))
            #expect(r.stderr.contains("the sudoers file is missing"))
            #expect(r.stderr.contains("/usr/libexec/provision/pv_dhcp_probe is missing: root's part of step install_libs"), "\(r.stderr)")
            #expect(!r.stderr.contains("verification link"), "the link exists in the lab, so it is not listed")
        }

        /// The names of this instance's component containers that exist, running or not.
        static func instanceContainers() throws -> [String] {
            let r = try run("/usr/local/bin/docker", ["--host", Lab.dockerHost, "ps", "-a", "--format", "{{.Names}}"])
            #expect(r.status == 0, "\(r.output)")
            return r.stdout.split(separator: "\n").map(String.init).filter { $0.hasPrefix("pvit-") }.sorted()
        }

        /// ProVision's Services tab: the configuration's `components` decides what an install runs,
        /// verifies and leaves. All three, then DNS only (the others stopped and removed, said so),
        /// then all three again: each ends in PVOK with exactly the enabled containers.
        @Test func theEnabledComponentsDecideWhatRunsAndWhatIsRemoved() throws {
            try Lab.requireUp()
            let (allTar, work) = try Self.makeBundle("it-comp-all")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let (dnsTar, dnsWork) = try Self.makeBundle("it-comp-dns", overriding: ["components": "dns"])
            defer { try? FileManager.default.removeItem(atPath: dnsWork) }
            defer { try? Lab.restoreInstance() }
            let all = try Self.extract(allTar), dnsOnly = try Self.extract(dnsTar)
            defer { for b in [all, dnsOnly] { try? FileManager.default.removeItem(atPath: b) } }
            let root = work + "/root"

            var r = try installScript(all, ["--root", root])
            #expect(r.status == 0 && r.stdout.split(separator: "\n").last == "PVOK", "\(r.output)")
            #expect(try Self.instanceContainers() == ["pvit-dhcp", "pvit-dns", "pvit-monitoring"])

            r = try installScript(dnsOnly, ["--root", root, "--json"])
            #expect(r.status == 0 && r.stdout.split(separator: "\n").last == "PVOK", "\(r.output)")
            let events = r.stdout.split(separator: "\n").dropLast().compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            let skipped = events.filter { $0["event"] as? String == "skipped" }.compactMap { $0["step"] as? String }
            #expect(skipped == ["network_config", "setup_monitoring", "setup_dhcp"], "\(r.stdout)")
            let stop = events.first { $0["step"] as? String == "stop_components" && $0["event"] as? String == "ok" }?["detail"] as? String ?? ""
            #expect(stop.contains("removed pvit-dhcp, pvit-monitoring (not enabled: components = dns)"), "\(stop)")
            #expect(try Self.instanceContainers() == ["pvit-dns"])
            let verify = try tool("pv_verify", ["all", "--root", root])
            #expect(verify.status == 0 && verify.stdout.contains("all 1 checks passed") && !verify.stdout.contains("dhcp"), "\(verify.output)")
            let update = try tool("pv_update", ["dhcp", "--check", "--root", root])
            #expect(update.status == 64 && update.stderr.contains("dhcp is not enabled on this server (components = dns)"), "\(update.output)")
            let status = try tool("pv_status", ["--json", "--root", root])
            #expect(status.stdout.contains("\"component\":\"dns\"") && !status.stdout.contains("\"component\":\"dhcp\""), "\(status.stdout)")

            r = try installScript(all, ["--root", root])
            #expect(r.status == 0 && r.stdout.split(separator: "\n").last == "PVOK", "\(r.output)")
            #expect(!r.stdout.contains("skipped"), "\(r.stdout)")
            #expect(try Self.instanceContainers() == ["pvit-dhcp", "pvit-dns", "pvit-monitoring"])
        }

        /// Delete Managed Server: the listing changes nothing; --yes writes the redacted record,
        /// removes the containers, the system files and the root; a second run has nothing to do;
        /// the server installs again to PVOK; a half-installed server is removed as well.
        @Test func uninstallRemovesEverythingAndTheServerInstallsAgain() throws {
            try Lab.requireUp()
            defer { try? Lab.restoreInstance() }
            let (tar, work) = try Self.makeBundle("it-uninstall")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let bundle = try Self.extract(tar)
            defer { try? FileManager.default.removeItem(atPath: bundle) }
            let root = work + "/root"
            var r = try installScript(bundle, ["--root", root])
            #expect(r.status == 0 && r.stdout.split(separator: "\n").last == "PVOK", "\(r.output)")
            // What an update killed during a prepared swap leaves: the new version's container, created.
            let docker = { (args: [String]) throws -> RunResult in try run("/usr/local/bin/docker", ["--host", Lab.dockerHost] + args) }
            let image = try docker(["inspect", "--format", "{{.Config.Image}}", "pvit-dhcp"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let created = try docker(["create", "--name", "pvit-dhcp-next", "--label", "org.provision.component=dhcp",
                                      "--label", "org.provision.prefix=pvit-", image])
            #expect(created.status == 0, "\(created.output)")
            defer { _ = try? docker(["rm", "--force", "pvit-dhcp-next"]) }

            r = try tool("pv_uninstall", ["--root", root])
            #expect(r.status == 0, "\(r.output)")
            for line in ["stop and remove the container pvit-dns", "stop and remove the container pvit-dhcp-next",
                         "remove \(root)/system/etc/sudoers.d/provision",
                         "remove the install root \(root)", "nothing was changed: run again with --yes"] {
                #expect(r.stdout.contains(line), "\(line): \(r.stdout)")
            }
            #expect(try Self.instanceContainers() == ["pvit-dhcp", "pvit-dhcp-next", "pvit-dns", "pvit-monitoring"])

            r = try tool("pv_uninstall", ["--root", root, "--yes"], timeout: 120)
            #expect(r.status == 0, "\(r.output)")
            let archive = r.stdout.split(separator: "\n").first { $0.hasPrefix("archive: ") }.map { String($0.dropFirst(9)) } ?? ""
            #expect(archive.hasPrefix(work + "/provision-it-uninstall-") && archive.hasSuffix(".tar.gz"), "\(r.stdout)")
            #expect(try Self.instanceContainers().isEmpty && !FileManager.default.fileExists(atPath: root))
            let listing = try run("/bin/tar", ["-tzf", archive]).stdout
            #expect(listing.contains("root/etc/provision.conf") && listing.contains("root/logs/install/verify.log"), "\(listing)")
            let config = try run("/bin/tar", ["-xzOf", archive, "root/etc/provision.conf"]).stdout
            let token = try Lab.configText().split(separator: "\n").first { $0.hasPrefix("management_token") }?
                .split(separator: "=").last?.trimmingCharacters(in: .whitespaces) ?? "?"
            #expect(!config.contains(token) && config.contains("management_token = <redacted>"), "\(config)")

            r = try tool("pv_uninstall", ["--root", root, "--yes"])
            #expect(r.status == 0 && r.stdout.contains("nothing to remove: no install at \(root)"), "twice: \(r.output)")

            r = try installScript(bundle, ["--root", root])
            #expect(r.status == 0 && r.stdout.split(separator: "\n").last == "PVOK", "again: \(r.output)")
            #expect(try Self.instanceContainers() == ["pvit-dhcp", "pvit-dns", "pvit-monitoring"])

            // Half-installed: the tree and the tools, no units, no components of its own.
            let half = work + "/half"
            r = try run(bundle + "/bin/pv_install", ["--bundle", bundle, "--root", half, "-e", "create_dirs,install_libs"])
            #expect(r.status == 0, "\(r.output)")
            r = try tool("pv_uninstall", ["--root", half, "--yes"], timeout: 120)
            #expect(r.status == 0 && !FileManager.default.fileExists(atPath: half), "\(r.output)")
        }

        /// The seed's install without root, as a new user would do it: a real user in the docker
        /// group owns the install root; its first run lists root's parts with the one command that
        /// does them; the admin (here the test, as root) runs exactly that; the user's rerun checks
        /// root's files without writing there and ends in PVOK, and so does a rerun after that.
        /// The server runs DNS and monitoring: the DHCP check helper needs a chain of root-owned
        /// directories (on a real server /usr/libexec/provision), which a sandbox under a root the
        /// agent owns cannot give; as the agent's user it is proven by the next test, and the
        /// whole non-sandbox path, helper included, as provision under systemd (Scripts/test-systemd).
        @Test func anAgentUserFinishesTheInstallAfterTheAdminsPart() throws {
            try Lab.requireUp()
            let agent = "pvitagent"
            let created = try run("/usr/bin/getent", ["passwd", agent]).status != 0
            if created {
                let add = try run("/usr/sbin/useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", "--groups", "docker", agent])
                #expect(add.status == 0, "\(add.output)")
            }
            defer { if created { _ = try? run("/usr/sbin/userdel", [agent]) } }
            defer { try? Lab.restoreInstance() }
            let (tar, work) = try Self.makeBundle("it-agent", overriding: ["components": "dns, monitoring"])
            defer { try? FileManager.default.removeItem(atPath: work) }
            let bundle = try Self.extract(tar)
            defer { try? FileManager.default.removeItem(atPath: bundle) }
            let root = work + "/root", home = work + "/home"
            for d in [root, home] {
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
                _ = try run("/bin/chown", [agent, d])
            }
            _ = try run("/bin/chmod", ["-R", "a+rX", work, bundle])
            func asAgent(_ arguments: [String]) throws -> RunResult {
                try run("/usr/bin/setpriv", ["--reuid=\(agent)", "--regid=\(agent)", "--init-groups", "/usr/bin/env", "HOME=\(home)",
                                             "/bin/bash", bundle + "/install_python3.sh"] + arguments, timeout: 300)
            }

            // 1. The listing: root's parts, and the one command that does them.
            var r = try asAgent(["--root", root])
            #expect(r.status == 77, "\(r.output)")
            #expect(r.stderr.contains("the heartbeat units are not installed") && r.stderr.contains("the sudoers file is missing")
                    && r.stderr.contains("pv_monitor.service is not installed"), "\(r.stderr)")
            #expect(!r.stderr.contains("the DHCP check helper") && !r.stderr.contains("verification link"), "no DHCP here: \(r.stderr)")
            let command = "sudo /bin/bash \(bundle)/install_python3.sh --root \(root) --user \(agent) -e install_libs,setup_heartbeat,setup_monitor"
            #expect(r.stderr.contains(command), "\(r.stderr)")
            #expect(!r.stderr.contains("docker group") && !r.stderr.contains("not owned by"), "the user is set up as the seed says")

            // 2. The admin runs exactly that (the test is root: without the sudo).
            let words = command.split(separator: " ").dropFirst().map(String.init)
            r = try run(words[0], Array(words.dropFirst()), timeout: 300)
            #expect(r.status == 0, "\(r.output)")
            for f in ["system/etc/systemd/system/pv_heartbeat.service", "system/etc/systemd/system/pv_monitor.service",
                      "system/etc/sudoers.d/provision"] {
                #expect((try FileManager.default.attributesOfItem(atPath: root + "/" + f))[.ownerAccountID] as? Int == 0, "\(f)")
            }

            // 3. The user's rerun: root's files checked, not written; PVOK. Then once more.
            for attempt in 1...2 {
                r = try asAgent(["--root", root])
                #expect(r.status == 0, "run \(attempt): \(r.output)")
                #expect(r.stdout.split(separator: "\n").last == "PVOK", "run \(attempt): \(r.stdout)")
                #expect(r.stdout.contains("setup_heartbeat ... ok") && r.stdout.contains("checked, not written (not root)"), "\(r.stdout)")
            }
            let agentID = try run("/usr/bin/id", ["-u", agent]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            for f in ["state/update.lock", "libs/pv_update", "logs/install/verify.log", "etc/provision.conf"] {
                #expect((try FileManager.default.attributesOfItem(atPath: root + "/" + f))[.ownerAccountID] as? Int == Int(agentID), "\(f)")
            }
            // What the user's install started, as the user sees it.
            let status = try run("/usr/bin/setpriv", ["--reuid=\(agent)", "--regid=\(agent)", "--init-groups",
                                                      root + "/libs/pv_status", "--json", "--root", root])
            #expect(status.status == 0, "\(status.output)")
            let doc = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
            let states = (doc?["components"] as? [[String: Any]] ?? []).map { "\($0["component"]!) \($0["state"]!)" }
            #expect(states == ["dns running", "monitoring running"], "\(status.stdout)")
        }

        /// The DHCP check as the agent's user, with no sudo: root's install_libs puts the helper in a
        /// root-owned chain with cap_net_raw; as nobody, pv_verify dhcp passes through it, and the
        /// helper can be neither replaced nor fed a file name.
        @Test func anUnprivilegedUserVerifiesDHCPThroughTheCapabilityHelper() throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-dhcpcap")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let bundle = try Self.extract(tar)
            let root = work + "/root"
            let install = try run(bundle + "/bin/pv_install", ["--bundle", bundle, "--root", root, "-e", "create_dirs,install_libs"])
            #expect(install.status == 0, "\(install.output)")
            let helper = root + "/system/usr/libexec/provision/pv_dhcp_probe"
            let attrs = try FileManager.default.attributesOfItem(atPath: helper)
            #expect(attrs[.ownerAccountID] as? Int == 0)
            #expect((attrs[.posixPermissions] as? Int).map { $0 & 0o022 } == 0)
            #expect(!FileManager.default.fileExists(atPath: root + "/libs/pv_dhcp_probe"), "the helper never goes into the agent's libs/")

            // The agent's files are the agent's (here nobody's); the helper's chain stays root's.
            _ = try run("/bin/chmod", ["-R", "a+rX", work, bundle])
            for d in ["etc", "state", "logs"] { _ = try run("/bin/chown", ["-R", "65534:65534", root + "/" + d]) }
            let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]
            let r = try run("/usr/bin/setpriv", asNobody + [root + "/libs/pv_verify", "dhcp", "--root", root])
            #expect(r.status == 0, "\(r.output)")
            #expect(r.stdout.contains("leased 198.51.100.") && r.stdout.contains("via pv_dhcp_probe"), "\(r.stdout)")

            // Without the helper, nobody's check fails and says how to install it.
            let hidden = helper + ".hidden"
            #expect(rename(helper, hidden) == 0)
            let without = try run("/usr/bin/setpriv", asNobody + [root + "/libs/pv_verify", "dhcp", "--root", root])
            #expect(without.status == 1 && without.stdout.contains("needs root or CAP_NET_RAW") && without.stdout.contains("pv_install -e install_libs"), "\(without.output)")
            #expect(rename(hidden, helper) == 0)

            // nobody can neither replace the helper nor any directory of its chain.
            let replace = try run("/usr/bin/setpriv", asNobody + ["/bin/cp", "/bin/true", helper])
            #expect(replace.status != 0)
            let move = try run("/usr/bin/setpriv", asNobody + ["/bin/mv", root + "/system/usr/libexec/provision", root + "/system/x"])
            #expect(move.status != 0)
            // Its arguments name no file: anything else is a usage error before any work.
            let probe = try run("/usr/bin/setpriv", asNobody + [helper, "--config", root + "/etc/provision.conf"])
            #expect(probe.status == 64, "\(probe.output)")
            let direct = try run("/usr/bin/setpriv", asNobody + [helper, "--interface", "pvt-cli"])
            #expect(direct.status == 0 && direct.stdout.hasPrefix("pv_dhcp_probe/1\tok\t"), "\(direct.output)")

            // A crash handler that starts the program SWIFT_BACKTRACE names (the Swift runtime's)
            // would run it with the helper's capability: the helper, C with no runtime, has none.
            let marker = work + "/backtracer-ran"
            let backtracer = work + "/backtracer"
            try "#!/bin/sh\ntouch \(marker)\n".write(toFile: backtracer, atomically: true, encoding: .utf8)
            _ = try run("/bin/chmod", ["755", backtracer])
            let crashing = Process()
            crashing.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            crashing.arguments = asNobody + ["/usr/bin/env", "SWIFT_BACKTRACE=enable=yes,interactive=no,swift-backtrace=\(backtracer)",
                                             helper, "--interface", "lo", "--timeout", "10"]  // no DHCP server: it waits
            crashing.standardOutput = FileHandle.nullDevice
            crashing.standardError = FileHandle.nullDevice
            try crashing.run()
            usleep(500_000)
            kill(crashing.processIdentifier, SIGSEGV)
            crashing.waitUntilExit()
            #expect(crashing.terminationReason == .uncaughtSignal && crashing.terminationStatus == SIGSEGV, "the helper crashed as asked")
            usleep(200_000)
            #expect(!FileManager.default.fileExists(atPath: marker), "a backtracer of the user's ran")
        }

        /// Root rerunning the install in a tree the agent's user owns follows none of that user's
        /// links: a directory swapped for a link to a root file is an error naming it, and the root
        /// file keeps its owner; a link planted as a step's log is replaced, its target untouched.
        @Test func rootFollowsNoLinkTheAgentsUserPlants() throws {
            try Lab.requireUp()
            let (tar, work) = try Self.makeBundle("it-links")
            defer { try? FileManager.default.removeItem(atPath: work) }
            let bundle = try Self.extract(tar)
            let root = work + "/root"
            var r = try run(bundle + "/bin/pv_install", ["--bundle", bundle, "--root", root, "--user", "nobody", "-e", "create_dirs"])
            #expect(r.status == 0, "\(r.output)")
            #expect((try FileManager.default.attributesOfItem(atPath: root + "/data"))[.ownerAccountID] as? Int == 65534)
            // Two root-only files, as /etc/shadow would be.
            let secret = work + "/root-secret", logTarget = work + "/root-log-target"
            for f in [secret, logTarget] {
                #expect(FileManager.default.createFile(atPath: f, contents: Data("root only\n".utf8), attributes: [.posixPermissions: 0o600]))
            }
            _ = try run("/bin/chmod", ["a+x", work])
            let asNobody = ["--reuid=65534", "--regid=65534", "--clear-groups"]
            for cmd in [["/bin/rm", "-rf", root + "/data"], ["/bin/ln", "-s", secret, root + "/data"],
                        ["/bin/mkdir", "-p", root + "/logs/install"], ["/bin/ln", "-sf", logTarget, root + "/logs/install/create_dirs.log"]] {
                let done = try run("/usr/bin/setpriv", asNobody + cmd)
                #expect(done.status == 0, "\(cmd): \(done.output)")
            }
            // The install's lock planted as a link to a root file: root neither truncates nor writes it.
            let lockLink = try run("/usr/bin/setpriv", asNobody + ["/bin/ln", "-sf", secret, root + "/state/update.lock"])
            #expect(lockLink.status == 0, "\(lockLink.output)")
            r = try run(bundle + "/bin/pv_install", ["--bundle", bundle, "--root", root, "--user", "nobody", "-e", "create_dirs"])
            #expect(r.status == 73)
            #expect(r.stderr.contains(root + "/state/update.lock is a symbolic link or not a regular file"), "\(r.output)")
            _ = try run("/usr/bin/setpriv", asNobody + ["/bin/rm", root + "/state/update.lock"])

            r = try run(bundle + "/bin/pv_install", ["--bundle", bundle, "--root", root, "--user", "nobody", "-e", "create_dirs"])
            #expect(r.status != 0)
            #expect(r.stderr.contains(root + "/data is a symbolic link or not a directory"), "\(r.output)")
            for f in [secret, logTarget] {
                let attrs = try FileManager.default.attributesOfItem(atPath: f)
                #expect(attrs[.ownerAccountID] as? Int == 0, "\(f) changed owner")
                #expect(attrs[.posixPermissions] as? Int == 0o600)
                #expect(try String(contentsOfFile: f, encoding: .utf8) == "root only\n", "\(f) was written")
            }
            #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/logs/install/create_dirs.log")) == nil,
                    "the planted log link is replaced by a real file")
        }
    }
}
