import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The Unix socket a DNS component's dnstap sender (Knot's mod-dnstap) connects to: accepted
/// connections each run their own Frame Streams handshake; every frame is decoded and handed
/// on, every bad one counted with its reason and its connection closed. One thread, poll(2).
public final class DnstapListener {
    public let path: String
    let listenFD: Int32
    var connections: [Int32: FrameStreamsReceiver] = [:]
    /// One decoder for every sender: what ldns made of recent messages serves them all.
    var decoder = DnstapDecoder()
    let maxConnections = 64

    /// Binds `path` (a stale socket from a previous run is replaced), `mode` on the socket.
    public init(path: String, mode: mode_t = 0o660) throws(PVError) {
        self.path = path
        guard path.utf8.count < 108 else { throw PVError(.usage, "the dnstap socket path \(path) is too long for a Unix socket (at most 107 bytes)") }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw PVError(.osError, "cannot create the dnstap socket", cause: String(cString: strerror(errno))) }
        var st = stat()
        if lstat(path, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFSOCK else {
                close(fd)
                throw PVError(.cantCreate, "\(path) exists and is not a socket", hint: "remove it, then start pv_monitor again")
            }
            unlink(path)
        }
        let bound = UnixSocketAddress.with(path) { bind(fd, $0, $1) }
        guard bound == 0, chmod(path, mode) == 0, listen(fd, 16) == 0 else {
            let e = errno
            close(fd)
            throw PVError(.cantCreate, "cannot listen on \(path)", cause: String(cString: strerror(e)))
        }
        listenFD = fd
    }

    deinit {
        for fd in connections.keys { close(fd) }
        close(listenFD)
        unlink(path)
    }

    public var connectionCount: Int { connections.count }

    /// A sender's connection came or went: what the operator reads in the journal when Knot restarts.
    public enum SenderEvent: Sendable, Equatable {
        case connected(senders: Int)
        /// `finished`: the sender ended its stream (STOP); otherwise it closed or broke the connection.
        case disconnected(senders: Int, finished: Bool)
    }

    /// Serves until `deadline` on `clock`'s monotonic time (or until `stop` says so).
    public func serve(until deadline: Double, clock: AgentClock, stop: () -> Bool,
                      onRecord: (DnstapRecord) -> Void, onDrop: (String) -> Void,
                      onSender: (SenderEvent) -> Void = { _ in }) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !stop() {
            let remaining = deadline - clock.monotonic()
            guard remaining > 0 else { return }
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
            fds += connections.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 0.5) * 1000) + 1)
            guard ready > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == listenFD {
                    let client = accept(listenFD, nil, nil)
                    if client >= 0 {
                        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                        if connections.count >= maxConnections { close(client); onDrop("too many dnstap connections") }
                        else {
                            connections[client] = FrameStreamsReceiver()
                            onSender(.connected(senders: connections.count))
                        }
                    }
                    continue
                }
                let n = read(entry.fd, &buffer, buffer.count)
                guard n > 0 else {
                    if closeConnection(entry.fd) { onSender(.disconnected(senders: connections.count, finished: false)) }
                    continue
                }
                var receiver = connections[entry.fd]!
                do {
                    let events = try receiver.feed(Array(buffer[0..<n]))
                    connections[entry.fd] = receiver
                    for event in events {
                        switch event {
                        case .reply(let bytes): _ = bytes.withUnsafeBytes { write(entry.fd, $0.baseAddress, $0.count) }
                        case .frame(let frame):
                            switch decoder.decode(frame) {
                            case .success(let record): onRecord(record)
                            case .failure(let drop): onDrop(drop.rawValue)
                            }
                        case .finished:
                            if closeConnection(entry.fd) { onSender(.disconnected(senders: connections.count, finished: true)) }
                        }
                    }
                } catch {
                    onDrop("frame streams: \(error.description)")
                    if closeConnection(entry.fd) { onSender(.disconnected(senders: connections.count, finished: false)) }
                }
            }
        }
    }

    /// Closes a sender's connection; false when it was closed already.
    @discardableResult
    func closeConnection(_ fd: Int32) -> Bool {
        guard connections.removeValue(forKey: fd) != nil else { return false }
        close(fd)
        return true
    }
}
