import Testing
@testable import PVHeartbeat

@Suite struct ProcTextTests {
    @Test func loadAverage() {
        #expect(ProcText.loadAverage("0.52 0.58 0.59 2/612 12345\n") == [0.52, 0.58, 0.59])
        #expect(ProcText.loadAverage("0.52 0.58\n") == nil)
        #expect(ProcText.loadAverage("a b c d\n") == nil)
    }

    @Test func uptime() {
        #expect(ProcText.uptime("1000.50 1900.00\n") == 1000.5)
        #expect(ProcText.uptime("") == nil)
        #expect(ProcText.uptime("-1 2") == nil)
    }

    @Test func cpuTicksCountEightFieldsAndIdlePlusIowait() throws {
        let t = try #require(ProcText.cpuTicks("cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 1 1 1 1 1 1 1 1 1\n"))
        #expect(t.total == 36)  // guest and guest_nice are already in user and nice
        #expect(t.idle == 9)
        let old = try #require(ProcText.cpuTicks("cpu 10 0 10 80\n"))  // old kernels: four fields
        #expect(old.total == 100 && old.idle == 80)
        #expect(ProcText.cpuTicks("intr 1 2\n") == nil)
    }

    @Test func meminfoInBytes() {
        let m = ProcText.meminfo("MemTotal:  2 kB\nHugePages_Total:   3\nbroken line\nMemAvailable: x kB\n")
        #expect(m["MemTotal"] == 2048)
        #expect(m["HugePages_Total"] == 3)
        #expect(m["MemAvailable"] == nil)
    }

    @Test func establishedOnly() {
        #expect(ProcText.establishedCount(FakeSystem.procFixture["/proc/net/tcp"]!) == 2)
        #expect(ProcText.establishedCount(FakeSystem.procFixture["/proc/net/tcp6"]!) == 1)
        #expect(ProcText.establishedCount("header only\n") == 0)
    }
}

@Suite struct SystemFiguresTests {
    @Test func collectsEveryFigure() throws {
        var system = FakeSystem()
        system.disks["/var/lib/docker"] = DiskUsage(totalBytes: 10, availableBytes: 5, usedBytes: 5)
        let (f, sample) = SystemFigures.collect(from: system, previousCPU: nil,
                                                disks: [("root", "/"), ("docker", "/var/lib/docker"), ("gone", "/nope")])
        #expect(f.load == [0.52, 0.58, 0.59])
        #expect(f.uptimeSeconds == 1000.5)
        #expect(f.memoryTotalBytes == 2000 * 1024 && f.memoryAvailableBytes == 500 * 1024)
        #expect(f.swapTotalBytes == 1000 * 1024 && f.swapFreeBytes == 750 * 1024)
        #expect(f.tcpConnections == 3)
        #expect(f.disks.map(\.name) == ["root", "docker"])  // a path statvfs cannot answer is left out
        let cpu = try #require(f.cpu)
        #expect(cpu.count == 2)
        #expect(cpu.busyPercent == 20)  // since boot: (1000 - 800) / 1000
        #expect(cpu.windowSeconds == 1000.5)
        #expect(sample == CPUSample(totalTicks: 1000, idleTicks: 800, uptime: 1000.5))
    }

    @Test func cpuCoversTheIntervalSinceThePreviousBeat() {
        let previous = CPUSample(totalTicks: 900, idleTicks: 760, uptime: 970.5)
        let (f, _) = SystemFigures.collect(from: FakeSystem(), previousCPU: previous, disks: [])
        #expect(f.cpu?.busyPercent == 60)  // 100 ticks, 40 idle
        #expect(f.cpu?.windowSeconds == 30)
    }

    @Test func cpuCountersThatWentBackwardsMeanAReboot() {
        let previous = CPUSample(totalTicks: 5000, idleTicks: 4000, uptime: 9000)
        let (f, _) = SystemFigures.collect(from: FakeSystem(), previousCPU: previous, disks: [])
        #expect(f.cpu?.busyPercent == 20)
        #expect(f.cpu?.windowSeconds == 1000.5)
    }

    @Test func missingFilesAreNullNotZero() {
        let (f, sample) = SystemFigures.collect(from: FakeSystem(files: [:], disks: [:]), previousCPU: nil, disks: [("root", "/")])
        #expect(sample == nil)
        let json = f.json.rendered
        #expect(json == #"{"load":null,"cpu":null,"memory":{"total_bytes":null,"available_bytes":null,"used_percent":null},"swap":{"total_bytes":null,"free_bytes":null,"used_percent":null},"disks":[],"uptime_seconds":null,"tcp_connections":null}"#)
    }

    @Test func diskUsedPercentIsDfs() {
        // df: used / (used + available); reserved blocks count for neither
        #expect(DiskUsage(totalBytes: 100_000, availableBytes: 60_000, usedBytes: 35_000).usedPercent.rounded() == 37)
        #expect(DiskUsage(totalBytes: 0, availableBytes: 0, usedBytes: 0).usedPercent == 0)
    }
}
