import Testing
import PVCore
import PVTestSupport
@testable import PVDocker

@Suite struct ContainerSpecTests {
    let root = InstallRoot(path: "/provision")

    /// Another install on the same engine names its containers with its own prefix and says so in a label.
    @Test func aPrefixNamesTheContainersAndLabelsThem() throws {
        var config = testConfig
        config.containerPrefix = "pvit-"
        let spec = ContainerSpec(config: config, root: root, component: .dhcp, version: Version("1.0.0")!)
        #expect(spec.name == "pvit-dhcp")
        #expect(spec.runArguments.contains("org.provision.prefix=pvit-"))
        #expect(ContainerNaming.prefix(ofLabels: ["org.provision.component": "dhcp"]) == "pv-", "older containers: the default")
    }

    @Test func dnsRunArguments() {
        let spec = ContainerSpec(config: testConfig, root: root, component: .dns, version: Version("1.2.3")!)
        #expect(spec.runArguments == [
            "run", "--detach", "--name", "pv-dns", "--restart", "unless-stopped", "--log-opt", "max-size=10m", "--log-opt", "max-file=3",
            "--network", "host",
            "--label", "org.provision.component=dns", "--label", "org.provision.version=1.2.3", "--label", "org.provision.managed=true",
            "--label", "org.provision.prefix=pv-",
            "--env", "PV_DNS_LISTEN=127.0.0.1@5353", "--env", "PV_DNSTAP_SOCKET=/run/pv-monitor/dnstap.sock",
            "--env", "PV_KNOT_CONTROL_SOCKET=/run/pv-monitor/knot/knot.sock",
            "--volume", "/provision/config/dns:/etc/provision:ro", "--volume", "/provision/data/dns:/var/lib/provision",
            "--volume", "/provision/run/monitor:/run/pv-monitor",
            "127.0.0.1:5000/pv-dns:1.2.3",
        ])
    }

    @Test func dhcpGetsItsInterfaceAndMonitoringNothingExtra() {
        let dhcp = ContainerSpec(config: testConfig, root: root, component: .dhcp, version: Version("2.0.0")!)
        #expect(dhcp.runArguments.contains("PV_DHCP_INTERFACE=pvv-srv"))
        // The components' contract: Kea's control socket in pv_monitor's directory.
        #expect(dhcp.runArguments.contains("PV_KEA_CONTROL_SOCKET=/run/pv-monitor/kea4-ctrl.sock"))
        #expect(dhcp.runArguments.contains("/provision/run/monitor:/run/pv-monitor"))
        #expect(dhcp.runArguments.last == "127.0.0.1:5000/pv-dhcp:2.0.0")
        let mon = ContainerSpec(config: testConfig, root: root, component: .monitoring, version: Version("1.0.0")!)
        #expect(!mon.runArguments.contains("--env"))
        #expect(mon.name == "pv-monitoring")
    }

    @Test func debugShellReplacesTheEntrypoint() {
        let spec = ContainerSpec(config: testConfig, root: root, component: .dns, version: Version("1.2.3")!)
        let args = spec.debugArguments(tty: true)
        #expect(Array(args.prefix(9)) == ["run", "--rm", "--interactive", "--tty", "--name", "pv-dns-debug", "--entrypoint", "/bin/sh", "--network"])
        #expect(!args.contains("--detach") && !args.contains("--restart"))
        #expect(!spec.debugArguments(tty: false).contains("--tty"))
        #expect(args.last == spec.image)
    }

    @Test func dockerHostIsAlwaysExplicit() {
        let cli = DockerCLI(host: "unix:///x.sock", runner: LiveProcessRunner())
        #expect(cli.command(["ps"]).argv == ["docker", "--host", "unix:///x.sock", "ps"])
    }

    @Test func inspectLinesParse() {
        let info = ContainerInfo(inspectLine: ["/pv-dns", "running", "2026-11-26T01:00:00.123456789Z", "77", "sha256:ab", "r/pv-dns:1.0.0",
                                               "dns", "1.0.0", "0", "0"].joined(separator: "\u{1f}"))
        #expect(info?.name == "pv-dns" && info?.isRunning == true && info?.pid == 77 && info?.version == "1.0.0")
        #expect(info?.startedEpoch == 1_795_654_800)
        let unlabeled = ContainerInfo(inspectLine: ["/x", "exited", "", "0", "i", "r", "<no value>", "<no value>", "3", "2"].joined(separator: "\u{1f}"))
        #expect(unlabeled?.version == nil && unlabeled?.exitCode == 3 && unlabeled?.restartCount == 2)
        #expect(ContainerInfo(inspectLine: "garbage") == nil)
    }

    @Test func rfc3339() {
        #expect(RFC3339.epochSeconds("1970-01-02T00:00:00Z") == nil, "before any container could start")
        #expect(RFC3339.epochSeconds("2000-03-01T00:00:00Z") == 951_868_800)
        #expect(RFC3339.epochSeconds("2000-03-01T02:00:00+02:00") == 951_868_800)
        #expect(RFC3339.epochSeconds("0001-01-01T00:00:00Z") == nil)
    }
}
