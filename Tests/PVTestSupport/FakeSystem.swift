import PVCore
import PVSystem

/// A host as text: /proc files from a fixture, fixed disks and names. Any
/// file not given reads as missing, so nothing falls through to the real host.
public struct FakeSystem: SystemSource {
    public var files: [String: String] = FakeSystem.procFixture
    public var disks: [String: DiskUsage] = ["/": DiskUsage(totalBytes: 100_000, availableBytes: 60_000, usedBytes: 35_000)]
    public var cpus = 2

    public init(files: [String: String] = FakeSystem.procFixture, disks: [String: DiskUsage] = ["/": DiskUsage(totalBytes: 100_000, availableBytes: 60_000, usedBytes: 35_000)]) {
        self.files = files
        self.disks = disks
    }

    public func read(_ path: String) -> String? { files[path] }
    public func disk(_ path: String) -> DiskUsage? { disks[path] }
    public func processorCount() -> Int { cpus }
    public var diagCount: Int?
    public func establishedTCPConnections() -> Int? { diagCount }

    public static let procFixture: [String: String] = [
        "/proc/loadavg": "0.52 0.58 0.59 2/612 12345\n",
        "/proc/uptime": "1000.50 1900.00\n",
        "/proc/stat": "cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 50 0 50 350 50 0 0 0 0 0\nintr 1 2 3\n",
        "/proc/meminfo": "MemTotal:        2000 kB\nMemFree:          100 kB\nMemAvailable:     500 kB\nSwapTotal:       1000 kB\nSwapFree:         750 kB\n",
        "/proc/net/tcp": """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 10 0
               1: 0100007F:A2C6 0100007F:1388 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0 10 0
               2: 0100007F:1388 0100007F:A2C6 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 10 0
              """,
        "/proc/net/tcp6": """
              sl  local_address                         remote_address                        st tx_queue rx_queue
               0: 00000000000000000000000001000000:0035 00000000000000000000000000000000:0000 0A 00000000:00000000
               1: 00000000000000000000000001000000:0035 00000000000000000000000001000000:D431 01 00000000:00000000
              """,
    ]
}

