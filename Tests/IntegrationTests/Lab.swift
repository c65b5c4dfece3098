import Foundation
import Synchronization
import Testing

/// The lab that `Scripts/lab up` brings up: a real Docker engine, registry,
/// RabbitMQ, Knot and Kea. Integration tests fail (not skip) without it, so a
/// missing lab can never look like a green run.
enum Lab {
    static let repo: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var dir: URL { repo.appendingPathComponent(".lab") }
    /// The developer's lab instance (`.lab/root`, containers pv-*): the tests read its
    /// configuration and never change what runs there.
    static var labConfig: String { dir.appendingPathComponent("root/etc/provision.conf").path }
    /// The tests' own instance on the same engine: its root, its containers (pvit-*), its DNS port
    /// and its DHCP link (pvt-srv 198.51.100.2/24 <-> pvt-cli, made by Scripts/lab).
    static var root: String { dir.appendingPathComponent("it-root").path }
    static var config: String { root + "/etc/provision.conf" }
    static let dnsPort = "5354"
    static let instance: [String: String] = [
        "container_prefix": "pvit-", "dns_listen": "127.0.0.1@\(dnsPort)", "dns_verify_port": dnsPort,
        "dhcp_server_interface": "pvt-srv", "dhcp_verify_interface": "pvt-cli",
    ]
    static var binDir: String { ProcessInfo.processInfo.environment["PV_BIN_DIR"] ?? repo.appendingPathComponent(".build/debug").path }
    static var dockerHost: String { "unix://" + dir.appendingPathComponent("docker/docker.sock").path }

    /// The lab must be up; the tests' instance is set up on first use (its configuration, and its
    /// three components started at the lab's good version).
    static func requireUp() throws {
        guard FileManager.default.fileExists(atPath: labConfig) else {
            throw LabError("the lab is not up (\(labConfig) missing): run Scripts/lab up, or Scripts/test which does")
        }
        try instanceSetUp.withLock { done in
            if done { return }
            // The DHCP check helper is C that SwiftPM does not build (Scripts/build-probe): beside
            // the debug tools, so that a bundle made from them carries the helper as it ships.
            if ProcessInfo.processInfo.environment["PV_BIN_DIR"] == nil {
                let probe = try run(repo.path + "/Scripts/build-probe", [binDir])
                guard probe.status == 0 else { throw LabError("Scripts/build-probe: \(probe.output)") }
            }
            try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: config, contents: Data(try configText().utf8), attributes: [.posixPermissions: 0o600])
            for component in ["dns", "dhcp", "monitoring"] {
                let r = try tool("pv_start", [component, "-v", "1.1.0", "--root", root])
                guard r.status == 0 else { throw LabError("starting the tests' \(component): \(r.output)") }
            }
            done = true
        }
    }
    private static let instanceSetUp = Mutex(false)

    /// For a test that leaves the instance with fewer components (a server without DHCP): the
    /// three started again at the lab's good version, as the other tests expect them.
    static func restoreInstance() throws {
        for component in ["dns", "dhcp", "monitoring"] {
            let r = try tool("pv_start", [component, "-v", "1.1.0", "--root", root])
            guard r.status == 0 else { throw LabError("restarting the tests' \(component): \(r.output)") }
        }
    }

    /// The lab's configuration with the tests' instance in it.
    static func configText() throws -> String {
        try overriding(String(contentsOfFile: labConfig, encoding: .utf8), with: instance)
    }

    static func overriding(_ text: String, with values: [String: String]) -> String {
        var lines: [String] = []
        var missing = values
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let key = line.split(separator: "=").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            if let value = values[key] { lines.append("\(key) = \(value)"); missing[key] = nil } else { lines.append(String(line)) }
        }
        for (key, value) in missing.sorted(by: { $0.key < $1.key }) { lines.append("\(key) = \(value)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A scratch install root whose configuration is the tests' instance's with some keys replaced.
    static func scratchRoot(_ name: String, overriding: [String: String] = [:]) throws -> String {
        try requireUp()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pvit-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/etc", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: dir + "/etc/provision.conf", contents: Data(Self.overriding(try configText(), with: overriding).utf8),
                                       attributes: [.posixPermissions: 0o600])
        return dir
    }
}

struct LabError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var output: String { stdout + stderr }
}

/// Runs a program with a hard time bound; a hung tool fails the test instead of hanging CI.
@discardableResult
func run(_ path: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60) throws -> RunResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "PV_ROOT")
    for (k, v) in environment { env[k] = v }
    p.environment = env
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Drain both pipes concurrently so a chatty child cannot block on a full pipe.
    nonisolated(unsafe) var outData = Data(), errData = Data()
    let group = DispatchGroup()
    group.enter(); DispatchQueue.global().async { outData = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    group.enter(); DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(5_000) }
    if p.isRunning {
        p.terminate()
        usleep(200_000)
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        throw LabError("\(path) \(arguments.joined(separator: " ")) did not finish within \(timeout) s")
    }
    group.wait()
    // Killed by a signal: report it as a shell would (128 + signal).
    let status = p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus
    return RunResult(status: status, stdout: String(decoding: outData, as: UTF8.self),
                     stderr: String(decoding: errData, as: UTF8.self))
}

func tool(_ name: String, _ arguments: [String], environment: [String: String] = [:], timeout: Double = 60) throws -> RunResult {
    try run(Lab.binDir + "/" + name, arguments, environment: environment, timeout: timeout)
}

/// A server process owned by a test: started, waited for, and always ended.
final class Server {
    let process = Process()
    let stdout = Pipe()
    let name: String
    /// The line that matched in waitForLine.
    var lastLine = ""

    /// `withStandardError`: its stderr (a daemon's warnings, the journal's other half) read with stdout.
    init(_ name: String, _ path: String, _ arguments: [String], environment: [String: String]? = nil, withStandardError: Bool = false) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = stdout
        process.standardError = withStandardError ? stdout : FileHandle.nullDevice
        try process.run()
    }

    /// What was read after the last matched line: the next waitForLine looks there first.
    var unread = ""

    /// Waits (bounded) for a line on stdout; each line is matched at most once, in order.
    func waitForLine(_ expected: String, timeout: Double = 10) throws {
        let handle = stdout.fileHandleForReading
        let deadline = Date().addingTimeInterval(timeout)
        var seen = ""
        repeat {
            let lines = unread.split(separator: "\n", omittingEmptySubsequences: false)
            if let i = lines.dropLast().firstIndex(where: { $0.contains(expected) }) {
                lastLine = String(lines[i])
                unread = lines[(i + 1)...].joined(separator: "\n")
                return
            }
            seen += lines.dropLast().joined(separator: "\n")
            unread = String(lines.last ?? "")
            var pfd = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 100) > 0 {
                let data = handle.availableData
                if data.isEmpty { break }
                unread += String(decoding: data, as: UTF8.self)
            }
        } while Date() < deadline
        throw LabError("\(name) did not print '\(expected)' within \(timeout) s (got: \((seen + unread).suffix(400)))")
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(3)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    deinit { stop() }
}

func freeUDPPort() -> UInt16 { freePort(SOCK_DGRAM) }

/// A loopback port the kernel just handed out (and took back) for this socket type.
func freePort(_ type: __socket_type) -> UInt16 {
    let fd = socket(AF_INET, Int32(type.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return UInt16(bigEndian: addr.sin_port)
}

/// Every lab test lives under this suite: the lab is one shared machine
/// (one DNS port, one verification link), so its tests run one at a time.
@Suite(.serialized) struct LabIntegration {}
