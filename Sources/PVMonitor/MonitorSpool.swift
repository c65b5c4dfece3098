import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The samples the broker has not confirmed yet, on disk: `<root>/spool/monitoring`, one file per
/// sample, `<sequence, 20 digits>.<samples dropped before it>.json`, each written durably (temp file,
/// fsync, rename, fsync of the directory: once `add` returns, a kill -9 or a power cut keeps it).
/// Read back oldest first; removed only once confirmed. At most `maxBytes`: past that the oldest
/// go, and how many is carried by the next sample made (`dropped`), or by what is left when that
/// one goes too, so the count reaches the consumer whatever happens. A full disk (ENOSPC, EDQUOT)
/// is the same: the oldest samples make room for the newest, counted, and `diskFull` says so.
public final class MonitorSpool {
    public struct Entry: Sendable, Equatable {
        public var sequence: UInt64
        /// Samples dropped (spool full) before this one, counted in its message.
        public var carried: UInt64
        public var bytes: Int
        var name: String { String(repeating: "0", count: max(0, 20 - String(sequence).count)) + "\(sequence).\(carried).json" }
    }

    public let directory: String
    public let maxBytes: Int
    /// Oldest first.
    public private(set) var entries: [Entry] = []
    /// Dropped since the last sample was made: the next one carries the count (kept in `dropped`).
    public private(set) var dropped: UInt64 = 0
    /// Every sample dropped since this spool was opened (for the status).
    public private(set) var droppedTotal: UInt64 = 0
    /// Why the last sample needed room its disk did not have ("No space left on device"); nil
    /// once one is written without.
    public private(set) var diskFull: String?

    public static func directory(_ root: InstallRoot) -> String { root.join("spool", "monitoring") }

    /// Opens (or makes) the spool, with what an earlier run left in it.
    public init(directory: String, maxBytes: Int) throws(PVError) {
        self.directory = directory
        self.maxBytes = maxBytes
        do { try FileIO.makeDirectories(directory, mode: 0o700) } catch {
            throw PVError(.cantCreate, "cannot create the spool \(directory)", cause: error.message)
        }
        for name in FileIO.listDirectory(directory) ?? [] {
            guard let entry = Self.entry(named: name) else { continue }
            var st = stat()
            guard lstat(directory + "/" + name, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            entries.append(Entry(sequence: entry.sequence, carried: entry.carried, bytes: Int(st.st_size)))
        }
        entries.sort { $0.sequence < $1.sequence }
        if let text = try? FileIO.readText(directory + "/dropped", limit: 64, followLinks: false),
           let count = UInt64(text.split(separator: "\n").first ?? "") { dropped = count }
    }

    static func entry(named name: String) -> (sequence: UInt64, carried: UInt64)? {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2] == "json", parts[0].count == 20,
              let sequence = UInt64(parts[0]), let carried = UInt64(parts[1]) else { return nil }
        return (sequence, carried)
    }

    public var depth: Int { entries.count }
    public var totalBytes: Int { entries.reduce(0) { $0 + $1.bytes } }

    /// Keeps a sample durably. `carried` is the count of dropped samples its message says (the
    /// caller read `dropped` when making it); the oldest go if the spool is then over its size.
    public func add(sequence: UInt64, carried: UInt64, body: [UInt8]) throws(PVError) {
        let entry = Entry(sequence: sequence, carried: carried, bytes: body.count)
        // What the next sample carries: what was dropped after this one's message was made, and what goes now.
        var count = dropped - min(dropped, carried)
        var full: String? = nil
        while true {
            do {
                try FileIO.writeAtomically(directory + "/" + entry.name, body, mode: 0o600)
                break
            } catch {
                guard error.errno == ENOSPC || error.errno == EDQUOT else {
                    throw PVError(.cantCreate, "cannot spool sample #\(sequence)", cause: error.message)
                }
                full = String(cString: strerror(error.errno))
                // The oldest sample makes room for this newer one (as when the spool is over its size).
                guard let i = entries.firstIndex(where: { $0.sequence != sequence }) else {
                    // Nothing left to make room with: this sample is the one dropped, counted all the same.
                    droppedTotal += 1
                    diskFull = full
                    setDropped(count + 1 + carried)
                    return
                }
                let oldest = entries.remove(at: i)
                unlink(directory + "/" + oldest.name)
                count += 1 + oldest.carried
                droppedTotal += 1
            }
        }
        diskFull = full
        // A restarted daemon may write a sequence again (the last one it had kept): replace it.
        if let i = entries.firstIndex(where: { $0.sequence == sequence }) {
            if entries[i].name != entry.name { unlink(directory + "/" + entries[i].name) }
            entries.remove(at: i)
        }
        entries.append(entry)
        entries.sort { $0.sequence < $1.sequence }
        while totalBytes > maxBytes, entries.count > 1 {
            let oldest = entries.removeFirst()
            unlink(directory + "/" + oldest.name)
            count += 1 + oldest.carried
            droppedTotal += 1
        }
        setDropped(count)
    }

    /// The oldest `n` samples' messages, oldest first (one that cannot be read is dropped and counted).
    public func oldest(_ n: Int) -> [(entry: Entry, body: [UInt8])] {
        var out: [(entry: Entry, body: [UInt8])] = []
        var unreadable: [Entry] = []
        for entry in entries.prefix(n) {
            if let bytes = try? FileIO.readBytes(directory + "/" + entry.name, limit: 64 << 20, followLinks: false) {
                out.append((entry, bytes))
            } else {
                unreadable.append(entry)
            }
        }
        for entry in unreadable { remove(entry); setDropped(dropped + 1 + entry.carried); droppedTotal += 1 }
        return out
    }

    /// Forgets a confirmed sample.
    public func remove(_ entry: Entry) {
        unlink(directory + "/" + entry.name)
        entries.removeAll { $0.sequence == entry.sequence }
    }

    func setDropped(_ count: UInt64) {
        guard count != dropped else { return }
        dropped = count
        try? FileIO.writeAtomically(directory + "/dropped", "\(count)\n", mode: 0o600)
    }
}
