// swift-tools-version:6.0
// Fuzz targets for the parsers that read what others write: the configuration (any admin's
// text), DHCP replies and the UDP/IP frames around them (anything on the link), and the
// bundle's manifest. Built and run by Scripts/fuzz with libFuzzer and AddressSanitizer
// (-sanitize=fuzzer,address). A package of its own, because libFuzzer brings its own main.
import PackageDescription

let package = Package(
    name: "provision-agent-fuzz",
    dependencies: [.package(name: "provision-agent", path: "../..")],
    targets: [.target(name: "FuzzDriver")] + ["fuzz_config", "fuzz_dhcp", "fuzz_manifest", "fuzz_framestreams", "fuzz_dnstap", "fuzz_kea"].map {
        .executableTarget(name: $0, dependencies: ["FuzzDriver", .product(name: "ProvisionParsers", package: "provision-agent")])
    }
)
