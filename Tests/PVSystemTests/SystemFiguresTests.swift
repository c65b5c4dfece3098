import Testing
@testable import PVSystem
import PVTestSupport
import PVState
import PVCore

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

@Suite struct SockDiagTests {
    @Test func requestIsAnInetDiagDumpOfEstablishedTCP() {
        let r = SockDiag.request(family: 2, sequence: 7)
        #expect(r.count == 72)
        #expect(Array(r[0..<4]) == [72, 0, 0, 0])          // nlmsg_len
        #expect(Array(r[4..<6]) == [20, 0])                // SOCK_DIAG_BY_FAMILY
        #expect(Array(r[6..<8]) == [0x01, 0x03])           // NLM_F_REQUEST | NLM_F_DUMP
        #expect(Array(r[8..<12]) == [7, 0, 0, 0])          // sequence
        #expect(Array(r[16..<20]) == [2, 6, 0, 0])         // AF_INET, IPPROTO_TCP
        #expect(Array(r[20..<24]) == [2, 0, 0, 0])         // 1 << TCP_ESTABLISHED
        #expect(r[24...].allSatisfy { $0 == 0 })
    }

    func message(type: UInt16, sequence: UInt32, payload: Int) -> [UInt8] {
        let length = UInt32(16 + payload)
        var m: [UInt8] = []
        withUnsafeBytes(of: length.littleEndian) { m += $0 }
        withUnsafeBytes(of: type.littleEndian) { m += $0 }
        m += [0, 0]
        withUnsafeBytes(of: sequence.littleEndian) { m += $0 }
        m += [0, 0, 0, 0] + [UInt8](repeating: 0, count: payload)
        while m.count % 4 != 0 { m.append(0) }
        return m
    }

    @Test func countsEntriesUntilDone() {
        let entries = message(type: 20, sequence: 1, payload: 72) + message(type: 20, sequence: 1, payload: 73)
        #expect(SockDiag.parse(entries[...], sequence: 1) == .more(2))
        #expect(SockDiag.parse((message(type: 20, sequence: 1, payload: 72) + message(type: 3, sequence: 1, payload: 4))[...],
                               sequence: 1) == .done(1))
        #expect(SockDiag.parse(message(type: 3, sequence: 2, payload: 4)[...], sequence: 2) == .done(0))
    }

    @Test func refusesErrorsForeignSequencesAndTruncation() {
        #expect(SockDiag.parse(message(type: 2, sequence: 1, payload: 20)[...], sequence: 1) == .failed)
        #expect(SockDiag.parse(message(type: 20, sequence: 9, payload: 8)[...], sequence: 1) == .failed)
        #expect(SockDiag.parse(Array(message(type: 20, sequence: 1, payload: 72).prefix(40))[...], sequence: 1) == .failed)
        #expect(SockDiag.parse([16, 0, 0][...], sequence: 1) == .failed)
    }

    @Test func theKernelsCountWinsOverProcWhenItAnswers() {
        var system = FakeSystem()
        system.diagCount = 7
        #expect(SystemFigures.collect(from: system, previousCPU: nil, disks: []).0.tcpConnections == 7)
    }
}
