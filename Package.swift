// swift-tools-version:6.0
// The on-host agent suite of a ProVision managed DNS/DHCP server.
//
// Shape: C libraries as system library targets, one thin Swift wrapper target
// per C library or protocol (so an executable links only what it uses), a core
// library without any C dependency, and ~20-line executables.
import PackageDescription

// Scripts/test builds with PV_WARNINGS_AS_ERRORS=1, so that a warning fails CI; a developer's
// build (and the static release build) only warns.
let strict: [SwiftSetting] = Context.environment["PV_WARNINGS_AS_ERRORS"] == "1" ? [.unsafeFlags(["-warnings-as-errors"])] : []

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
        .executable(name: "pv_dhcp_probe", targets: ["pv_dhcp_probe"]),
        // The parsers, for the fuzz targets in Tests/Fuzz (Scripts/fuzz).
        .library(name: "ProvisionParsers", targets: ["PVCore", "PVDHCP", "PVArchive"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C libraries (Debian -dev packages; see Scripts/deps).
        .systemLibrary(name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl"),
        .systemLibrary(name: "CLDNS", path: "Sources/CLDNS", pkgConfig: "ldns"),
        .systemLibrary(name: "CArchive", path: "Sources/CArchive", pkgConfig: "libarchive"),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto"),
        .systemLibrary(name: "CRabbitMQ", path: "Sources/CRabbitMQ", pkgConfig: "librabbitmq"),
        // <sys/timex.h> (adjtimex: is the clock synchronised?), which Glibc's module leaves out.
        .systemLibrary(name: "CTimex", path: "Sources/CTimex"),
        // <sys/xattr.h> (fsetxattr: the DHCP check helper's file capability).
        .systemLibrary(name: "CXattr", path: "Sources/CXattr"),

        // Before main in a fully static tool: NSS limited to what its own libc holds (files, dns).
        .target(name: "CStaticLibc", path: "Sources/CStaticLibc"),

        // Signal handlers that only record, and a spawn whose child dies with the tool.
        .target(name: "CProcessControl", path: "Sources/CProcessControl"),

        // Core: configuration, root paths, errors, output. No C library.
        .target(name: "PVCore", dependencies: ["CStaticLibc", "CProcessControl"], swiftSettings: strict),

        // One wrapper per C library / protocol.
        .target(name: "PVDNS", dependencies: ["PVCore", "CLDNS"], swiftSettings: strict),
        .target(name: "CPacket", path: "Sources/CPacket"),
        .target(name: "PVDocker", dependencies: ["PVCore"], swiftSettings: strict),
        // libarchive (tar, tar.gz; safe extraction) and SHA-256 for manifests (libcrypto).
        .target(name: "PVArchive", dependencies: ["PVCore", "CArchive", "CCrypto"], swiftSettings: strict),
        .target(name: "PVDHCP", dependencies: ["PVCore", "CPacket"], swiftSettings: strict),
        .target(name: "PVHTTP", dependencies: ["PVCore", "CCurl"], swiftSettings: strict),
        // AMQP 0-9-1 login and channel through rabbitmq-c (the diagnostics' RabbitMQ check).
        .target(name: "PVAMQP", dependencies: ["PVCore", "CRabbitMQ"], swiftSettings: strict),

        // Shared command-line pieces (root option, error reporting).
        .target(
            name: "PVCLI",
            dependencies: ["PVCore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),

        // Commands.
        .target(
            name: "PVVerify",
            dependencies: [
                "PVCore", "PVCLI", "PVDNS", "PVDHCP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),

        .target(
            name: "PVLifecycle",
            dependencies: [
                "PVCore", "PVCLI", "PVDocker",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),
        // The registry API v2 (tags, digests) over PVHTTP.
        .target(name: "PVRegistry", dependencies: ["PVCore", "PVHTTP", "PVLifecycle"], swiftSettings: strict),
        // Live readiness probes and component verification (ldns, DHCP).
        .target(name: "PVProbes", dependencies: ["PVLifecycle", "PVDNS", "PVVerify"], swiftSettings: strict),
        // Updates: registry, swap, verify, roll back, journal.
        .target(
            name: "PVUpdate",
            dependencies: [
                "PVLifecycle", "PVRegistry", "PVProbes",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),
        // The install: named steps over the lifecycle, update and verification pieces.
        .target(
            name: "PVInstall",
            dependencies: [
                "PVUpdate", "PVProbes", "PVArchive", "PVVerify", "CXattr",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),
        // The bundle builder (what ProVision does to make setup-<ID>.tar).
        .target(
            name: "PVBundle",
            dependencies: ["PVCore", "PVCLI", "PVArchive", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        // Starting needs the probes and the registry (and finishes interrupted updates); stop and status need neither.
        .target(
            name: "PVStart",
            dependencies: [
                "PVLifecycle", "PVProbes", "PVRegistry", "PVUpdate",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),

        .target(
            name: "PVHeartbeat",
            dependencies: [
                "PVCore", "PVCLI", "PVHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),

        // Diagnostics: every check at once, each bounded; the log archive.
        .target(
            name: "PVDiagnostics",
            dependencies: [
                "PVCore", "PVCLI", "PVHTTP", "PVAMQP", "PVVerify", "PVDocker", "PVHeartbeat", "PVArchive", "CTimex",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ], swiftSettings: strict),

        // Executables.
        .executableTarget(name: "pv_verify", dependencies: ["PVVerify"], swiftSettings: strict),
        .executableTarget(name: "pv_heartbeat", dependencies: ["PVHeartbeat"], swiftSettings: strict),
        .executableTarget(name: "pv_bundle", dependencies: ["PVBundle"], swiftSettings: strict),
        .executableTarget(name: "pv_install", dependencies: ["PVInstall"], swiftSettings: strict),
        .executableTarget(name: "pv_update", dependencies: ["PVUpdate"], swiftSettings: strict),
        .executableTarget(name: "pv_start", dependencies: ["PVStart"], swiftSettings: strict),
        .executableTarget(name: "pv_stop", dependencies: ["PVLifecycle"], swiftSettings: strict),
        .executableTarget(name: "pv_status", dependencies: ["PVLifecycle"], swiftSettings: strict),
        .executableTarget(name: "pv_diagnostics", dependencies: ["PVDiagnostics"], swiftSettings: strict),
        // The DHCP check with cap_net_raw, for the agent's user: arguments only (no ArgumentParser, no config).
        .executableTarget(name: "pv_dhcp_probe", dependencies: ["PVDHCP"], swiftSettings: strict),

        // Tests: unit tests never touch the host; integration tests need the lab.
        .testTarget(name: "PVCoreTests", dependencies: ["PVCore"], swiftSettings: strict),
        .testTarget(name: "PVVerifyTests", dependencies: ["PVVerify", "PVDNS", "PVDHCP", "PVCore"], swiftSettings: strict),
        .testTarget(name: "PVLifecycleTests", dependencies: ["PVLifecycle", "PVDocker", "PVCore", "PVRegistry", "PVHTTP", "PVUpdate"], swiftSettings: strict),
        // Fakes shared by the test targets that talk HTTP.
        .target(name: "PVTestSupport", dependencies: ["PVHTTP"], path: "Tests/PVTestSupport", swiftSettings: strict),
        .testTarget(name: "PVHTTPTests", dependencies: ["PVHTTP", "CCurl", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVHeartbeatTests", dependencies: ["PVHeartbeat", "PVHTTP", "PVCore", "PVTestSupport"], swiftSettings: strict),
        .testTarget(name: "PVDiagnosticsTests", dependencies: ["PVDiagnostics", "PVAMQP", "PVHTTP", "PVCore"], swiftSettings: strict),
        .testTarget(name: "PVInstallTests", dependencies: ["PVInstall", "PVArchive"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["PVCore"], swiftSettings: strict),
    ]
)
