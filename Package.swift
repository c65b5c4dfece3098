// swift-tools-version:6.1
// The on-host agent suite of a ProVision managed DNS/DHCP server.
//
// Shape: C libraries as system library targets, one thin Swift wrapper target
// per C library or protocol (so an executable links only what it uses), a core
// library without any C dependency, and ~20-line executables.
import PackageDescription

// Scripts/test builds with PV_WARNINGS_AS_ERRORS=1, so that a warning fails CI; a developer's
// build (and the static release build) only warns.
let strict: [SwiftSetting] = Context.environment["PV_WARNINGS_AS_ERRORS"] == "1" ? [.unsafeFlags(["-warnings-as-errors"])] : []
/// The same for the C of our own (Scripts/build-probe always compiles it with -Wall -Wextra -Werror).
let strictC: [CSetting] = Context.environment["PV_WARNINGS_AS_ERRORS"] == "1" ? [.unsafeFlags(["-Wall", "-Wextra", "-Werror"])] : []

/// A command leaf: its flags (ArgumentParser, PVCLI) over the operations it calls.
func cli(_ name: String, _ operations: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: ["PVCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")] + operations,
            swiftSettings: strict)
}

let package = Package(
    name: "provision-agent",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "pv_verify", targets: ["pv_verify"]),
        .executable(name: "pv_heartbeat", targets: ["pv_heartbeat"]),
        .executable(name: "pv_start", targets: ["pv_start"]),
        .executable(name: "pv_update", targets: ["pv_update"]),
        .executable(name: "pv_install", targets: ["pv_install"]),
        .executable(name: "pv_bundle", targets: ["pv_bundle"]),
        .executable(name: "pv_stop", targets: ["pv_stop"]),
        .executable(name: "pv_status", targets: ["pv_status"]),
        .executable(name: "pv_diagnostics", targets: ["pv_diagnostics"]),
        .executable(name: "pv_uninstall", targets: ["pv_uninstall"]),
        .executable(name: "pv_monitor", targets: ["pv_monitor"]),
        // pv_dhcp_probe, the DHCP check helper with cap_net_raw, is not a product: it is a C program
        // with no language runtime (SwiftPM links every executable through swiftc, which adds the
        // Swift runtime), built static against musl by Scripts/build-probe from
        // Sources/pv_dhcp_probe/main.c and the CDHCP target's sources.
        // The parsers, for the fuzz targets in Tests/Fuzz (Scripts/fuzz).
        .library(name: "ProvisionParsers", targets: ["PVCore", "PVDHCP", "CDHCP", "PVArchive", "PVMonitor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // dnstap's protobuf (issue 14): the runtime only; the code is generated once (Scripts/gen-dnstap).
        // No traits: the default BinaryDelimitedStreams imports full Foundation, which links ICU's data
        // into the static pv_monitor (issue 28); dnstap needs neither it nor FieldMaskUtilities.
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0", traits: []),
        // pv_monitor's /metrics in the Prometheus text format. Its HTTP server is the project's own
        // (PVMonitorHTTP/PullServer.swift, POSIX sockets): FlyingFox linked FoundationNetworking and
        // libcurl into the static daemon (issue 28).
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
    ],
    targets: [
        // C libraries (Debian -dev packages; see Scripts/deps).
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CLDNS", path: "Sources/CLDNS", pkgConfig: "ldns"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto"),
        .systemLibrary(name: "CRabbitMQ", path: "Sources/CRabbitMQ", pkgConfig: "librabbitmq"),
        // libknot's control client (knotc's protocol to knotd), for the DNS aggregate (pv_monitor).
        .systemLibrary(name: "CKnot", path: "Sources/CKnot", pkgConfig: "libknot"),
        // SQLite (Debian libsqlite3-dev): pv_monitor's 24 h history of intervals.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3"),
        // <sys/timex.h> (adjtimex: is the clock synchronised?), which Glibc's module leaves out.
        .systemLibrary(name: "CTimex", path: "Sources/CTimex"),
        // <sys/xattr.h> (fsetxattr: the DHCP check helper's file capability).
        .systemLibrary(name: "CXattr", path: "Sources/CXattr"),

        // Before main in a fully static tool: NSS limited to what its own libc holds (files, dns).
        .target(name: "CStaticLibc", path: "Sources/CStaticLibc"),

        // Signal handlers that only record, and a spawn whose child dies with the tool.
        .target(name: "CProcessControl", path: "Sources/CProcessControl"),

        // The model and the ports: Component, Version, ServerConfig, InstallRoot, CheckResult, PVError,
        // progress events, the process runner and the output. No C library.
        .target(name: "PVCore", dependencies: ["CStaticLibc", "CProcessControl"], swiftSettings: strict),
        // What the tools keep on disk between runs: component state, update journal, locks, heartbeat state.
        .target(name: "PVState", dependencies: ["PVCore"], swiftSettings: strict),

        // One wrapper per C library / protocol.
        .target(name: "PVDNS", dependencies: ["PVCore", "CLDNS"], swiftSettings: strict),
        // The DHCP check in C, the one implementation of the exchange: linked by PVDHCP (in-process
        // for root) and by the capability helper pv_dhcp_probe (Scripts/build-probe).
        .target(name: "CDHCP", path: "Sources/CDHCP", cSettings: strictC),
        // The Docker CLI invocations, container names and labels.
        .target(name: "PVDocker", dependencies: ["PVCore"], swiftSettings: strict),
        // libarchive (tar, tar.gz; safe extraction) and SHA-256 for manifests (libcrypto).
        .target(name: "PVArchive", dependencies: ["PVCore", "CArchive", "CCrypto"], swiftSettings: strict),
        .target(name: "PVDHCP", dependencies: ["PVCore", "CDHCP"], swiftSettings: strict),
        .target(name: "PVHTTP", dependencies: ["PVCore", "CCurl"], swiftSettings: strict),
        // AMQP 0-9-1 login and channel through rabbitmq-c (the diagnostics' RabbitMQ check).
        .target(name: "PVAMQP", dependencies: ["PVCore", "CRabbitMQ"], swiftSettings: strict),
        // The registry API v2 (tags, digests) over PVHTTP.
        .target(name: "PVRegistry", dependencies: ["PVCore", "PVHTTP"], swiftSettings: strict),

        // Start, stop, status, update and recovery of a component, over ports (Docker CLI, registry
        // catalog, readiness, verification): no C library (pv_status adds PVHTTP for the Engine API).
        .target(name: "PVComponents", dependencies: ["PVCore", "PVState", "PVDocker"], swiftSettings: strict),
        // The live checks behind those ports: DNS (ldns) and DHCP verification, readiness probes.
        .target(name: "PVVerification", dependencies: ["PVComponents", "PVDNS", "PVDHCP"], swiftSettings: strict),

        // Operations (no ArgumentParser, no command).
        // The install: named steps over the components, the registry and verification.
        .target(
            name: "PVInstall",
            dependencies: ["PVComponents", "PVVerification", "PVRegistry", "PVArchive", "CXattr"], swiftSettings: strict),
        // The bundle builder (what ProVision does to make setup-<ID>.tar).
        .target(name: "PVBundle", dependencies: ["PVCore", "PVArchive"], swiftSettings: strict),
        // The host's figures (load, CPU, memory, swap, disks, TCP connections): the heartbeat's and pv_monitor's.
        .target(name: "PVSystem", dependencies: ["PVCore", "PVState"], swiftSettings: strict),
        .target(name: "PVHeartbeat", dependencies: ["PVCore", "PVState", "PVDocker", "PVHTTP", "PVSystem"], swiftSettings: strict),
        // Diagnostics: every check at once, each bounded; the log archive.
        .target(
            name: "PVDiagnostics",
            dependencies: ["PVCore", "PVState", "PVHTTP", "PVAMQP", "PVVerification", "PVDocker", "PVArchive", "CTimex"],
            swiftSettings: strict),

        // Monitoring data on the host (issue 14): Frame Streams, the heavy-hitter summary.
        .target(name: "PVMonitor", dependencies: ["PVCore", "PVState", "PVDNS", "PVSystem", "PVAMQP", "CKnot", "CSQLite", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                exclude: ["dnstap.proto"], swiftSettings: strict),
        // pv_monitor's /metrics and /api/v1/rps over HTTP.
        .target(name: "PVMonitorHTTP", dependencies: ["PVMonitor", "PVCore", "PVSystem", .product(name: "Prometheus", package: "swift-prometheus")],
                swiftSettings: strict),
        // Delete Managed Server: containers, units, sudoers, helper, root (after an archive), user.
        .target(name: "PVUninstall", dependencies: ["PVCore", "PVState", "PVDocker", "PVArchive", "PVDHCP"], swiftSettings: strict),

        // Command-line pieces every tool shares (root option, error reporting).
        .target(
            name: "PVCLI",
            dependencies: ["PVCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        // One leaf per executable: flags -> the operation, and its rendering.
        cli("PVVerifyCLI", ["PVVerification"]),
        cli("PVStartCLI", ["PVComponents", "PVVerification", "PVRegistry", "PVHTTP"]),
        cli("PVStopCLI", ["PVComponents"]),
        cli("PVStatusCLI", ["PVComponents", "PVHTTP"]),
        cli("PVUpdateCLI", ["PVComponents", "PVVerification", "PVRegistry", "PVHTTP"]),
        cli("PVInstallCLI", ["PVInstall", "PVHTTP"]),
        cli("PVBundleCLI", ["PVBundle"]),
        cli("PVHeartbeatCLI", ["PVHeartbeat", "PVHTTP"]),
        cli("PVDiagnosticsCLI", ["PVDiagnostics", "PVHTTP"]),
        cli("PVUninstallCLI", ["PVUninstall"]),
        cli("PVMonitorCLI", ["PVMonitor", "PVMonitorHTTP"]),

        // Executables.
        .executableTarget(name: "pv_verify", dependencies: ["PVVerifyCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_heartbeat", dependencies: ["PVHeartbeatCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_bundle", dependencies: ["PVBundleCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_install", dependencies: ["PVInstallCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_update", dependencies: ["PVUpdateCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_start", dependencies: ["PVStartCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_stop", dependencies: ["PVStopCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_status", dependencies: ["PVStatusCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_diagnostics", dependencies: ["PVDiagnosticsCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_uninstall", dependencies: ["PVUninstallCLI"], swiftSettings: strict),
        .executableTarget(name: "pv_monitor", dependencies: ["PVMonitorCLI"], swiftSettings: strict),

        // Tests: unit tests never touch the host; integration tests need the lab.
        // One unit test target per library, named after it. Unit tests never touch the host.
        .testTarget(name: "PVCoreTests", dependencies: ["PVCore", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVDNSTests", dependencies: ["PVDNS", "PVCore"], swiftSettings: strict),
        .testTarget(name: "PVDHCPTests", dependencies: ["PVDHCP", "CDHCP", "PVCore"], swiftSettings: strict),
        .testTarget(name: "PVDockerTests", dependencies: ["PVDocker", "PVCore", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVArchiveTests", dependencies: ["PVArchive", "PVCore", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVRegistryTests", dependencies: ["PVRegistry", "PVHTTP", "PVCore", "PVTestSupport"], swiftSettings: strict),
        .testTarget(
            name: "PVComponentsTests", dependencies: ["PVComponents", "PVState", "PVDocker", "PVCore", "PVTestSupport"],
            swiftSettings: strict),
        // Fakes shared by the test targets.
        .target(name: "PVTestSupport", dependencies: ["PVCore", "PVSystem"], path: "Tests/PVTestSupport", swiftSettings: strict),
        .testTarget(name: "PVHTTPTests", dependencies: ["PVHTTP", "PVCore", "CCurl", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVHeartbeatTests", dependencies: ["PVHeartbeat", "PVState", "PVHTTP", "PVCore", "PVSystem", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVDiagnosticsTests", dependencies: ["PVDiagnostics", "PVState", "PVAMQP", "PVHTTP", "PVCore", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVInstallTests", dependencies: ["PVInstall", "PVArchive", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVSystemTests", dependencies: ["PVSystem", "PVState", "PVCore", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVMonitorTests", dependencies: ["PVMonitor", "PVDNS", "PVCore", "PVAMQP", "PVTestSupport", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                    swiftSettings: strict),
        .testTarget(name: "PVMonitorHTTPTests", dependencies: ["PVMonitorHTTP", "PVMonitor", "PVCore"], swiftSettings: strict),
        .testTarget(name: "PVUninstallTests", dependencies: ["PVUninstall", "PVArchive", "PVTestSupport"], swiftSettings: strict),
        // The command leaves, run in-process against a test environment.
        .testTarget(name: "PVInstallCLITests", dependencies: ["PVInstallCLI", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVStopCLITests", dependencies: ["PVStopCLI", "PVState", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVStatusCLITests", dependencies: ["PVStatusCLI", "PVState", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVStartCLITests", dependencies: ["PVStartCLI", "PVState", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVHeartbeatCLITests", dependencies: ["PVHeartbeatCLI", "PVHeartbeat"], swiftSettings: strict),
        .testTarget(name: "PVDiagnosticsCLITests", dependencies: ["PVDiagnosticsCLI"], swiftSettings: strict),
        .testTarget(name: "PVMonitorCLITests", dependencies: ["PVMonitorCLI", "PVTestSupport"], swiftSettings: strict),
        // What every tool's entry prints (PVCLI), checked against each tool's own parser.
        .testTarget(
            name: "PVCLITests",
            dependencies: ["PVCLI", "PVVerifyCLI", "PVStartCLI", "PVStopCLI", "PVStatusCLI", "PVUpdateCLI", "PVInstallCLI", "PVBundleCLI",
                           "PVHeartbeatCLI", "PVDiagnosticsCLI", "PVUninstallCLI", "PVMonitorCLI", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["PVCore"], swiftSettings: strict),
    ]
)
