import PVCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One whole request bounded, for a client library that bounds each read only. libknot's
/// control client waits at most its timeout for each read, but reads a unit's items until the
/// next unit begins: a peer that sends a valid row every 1.5 s (or an item every second) never
/// lets a 2 s timeout fire, and the interval loop waited 40 s. At the deadline, a thread of its
/// own shuts the request's socket down: the library's read then ends at once with an error, and
/// the caller says the request timed out.
final class RequestDeadline: Sendable {
    let seconds: Double
    let socket = Atomic<Int32>(-1)
    let fired = Atomic<Bool>(false)
    let wakeRead: Int32, wakeWrite: Int32
    let thread: Mutex<pthread_t?> = Mutex(nil)

    /// Starts counting now. Without a thread or a pipe (resources exhausted) nothing is cut, and
    /// each read stays bounded by the library's own timeout.
    init(seconds: Double) {
        self.seconds = seconds
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        } else {
            fds = [-1, -1]
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        guard wakeRead >= 0 else { return }
        let box = Unmanaged.passRetained(DeadlineBody { [self] in waitForDeadline() }).toOpaque()
        var id = pthread_t()
        if pthread_create(&id, nil, { raw in
            Unmanaged<DeadlineBody>.fromOpaque(raw!).takeRetainedValue().body()
            return nil
        }, box) == 0 {
            thread.withLock { $0 = id }
        } else {
            Unmanaged<DeadlineBody>.fromOpaque(box).release()
        }
    }

    /// The request's socket, once connected: shut down at the deadline.
    func watch(_ fd: Int32) {
        socket.store(fd, ordering: .sequentiallyConsistent)
        // Passed already while connecting: cut now.
        if fired.load(ordering: .sequentiallyConsistent) { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// The deadline passed before the request ended (its socket was shut down).
    var expired: Bool { fired.load(ordering: .sequentiallyConsistent) }

    /// The request is over (call before its socket is closed): the thread ends, nothing is cut after.
    func finish() {
        if let id = thread.withLock({ t -> pthread_t? in defer { t = nil }; return t }) {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
            pthread_join(id, nil)
        }
        if wakeRead >= 0 { close(wakeRead); close(wakeWrite) }
    }

    private func waitForDeadline() {
        let deadline = Deadline(secondsFromNow: seconds)
        while true {
            var wake = pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0)
            let ready = poll(&wake, 1, Int32(clamping: deadline.remainingMilliseconds))
            if ready > 0 { return }  // finished first
            if ready < 0 && errno == EINTR { continue }
            if !deadline.hasPassed { continue }
            fired.store(true, ordering: .sequentiallyConsistent)
            let fd = socket.load(ordering: .sequentiallyConsistent)
            if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
            return
        }
    }
}

private final class DeadlineBody {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
}

/// The Unix stream sockets this process holds that are connected and have no name of their own
/// (what a client's connect makes; an accepted dnstap connection carries the listener's path):
/// the one a library connected appears among them, and only it, when taken before and after.
enum ClientSockets {
    static func connectedUnnamed() -> Set<Int32> {
        guard let dir = opendir("/proc/self/fd") else { return [] }
        defer { closedir(dir) }
        var found: Set<Int32> = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let fd = Int32(name), isConnectedUnnamedStream(fd) else { continue }
            found.insert(fd)
        }
        return found
    }

    static func isConnectedUnnamedStream(_ fd: Int32) -> Bool {
        var type: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length) == 0, type == Int32(SOCK_STREAM.rawValue) else { return false }
        var local = sockaddr_un()
        var localLength = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &localLength) }
        }
        // An unnamed Unix socket's name is its family alone.
        guard named == 0, local.sun_family == sa_family_t(AF_UNIX), localLength <= socklen_t(MemoryLayout<sa_family_t>.size) else { return false }
        var peer = sockaddr_un()
        var peerLength = socklen_t(MemoryLayout<sockaddr_un>.size)
        return withUnsafeMutablePointer(to: &peer) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &peerLength) }
        } == 0
    }
}
