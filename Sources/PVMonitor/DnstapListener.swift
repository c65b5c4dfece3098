import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The Unix socket a DNS component's dnstap sender (Knot's mod-dnstap) connects to: accepted
/// connections each run their own Frame Streams handshake; every frame is decoded and handed
/// on, every bad one counted with its reason and its connection closed. One thread, poll(2).
///
/// The socket is 0660: the agent's, group root (the directory's group, made so by create_dirs),
/// which the DNS component's Knot has (root in its container, without the capability to override
/// file modes); other local users cannot connect at all. Who connects is then known from the
/// kernel (SO_PEERCRED, fixed at connect, unforgeable), and that decides who may give way when
/// the slots run out: see `Limits`.
public final class DnstapListener {
    /// What the listener allows, so that no writer can keep the DNS component's Knot out.
    /// - a handshake (READY, START) must be finished within `handshakeSeconds` of the connect
    ///   (Knot takes milliseconds): a writer that trickles its READY a byte a second is closed;
    /// - a connection that sends nothing for `silentSeconds` is closed, unless it is the DNS
    ///   component's between two frames: Knot writes nothing while the server is quiet, and a
    ///   closed connection costs it the frames of its next queries until it reconnects (its
    ///   reopen interval: seconds);
    /// - at most `maxConnections`, of which at most `maxForeign` from writers that are not the
    ///   DNS component. When every slot is taken, a new connection takes the slot of the oldest
    ///   one whose handshake is unfinished (a writer that is not the component only the slot of
    ///   another such writer), and the component's a slot of a writer that is not the component
    ///   (the one silent longest); a streaming connection of the component is never closed for
    ///   another. Closing the idlest connection instead would close Knot's own on a quiet
    ///   server; a reserved slot would go to whoever connects first.
    public struct Limits: Sendable {
        public var maxConnections: Int
        public var maxForeign: Int
        public var handshakeSeconds: Double
        public var silentSeconds: Double

        public init(maxConnections: Int = 64, maxForeign: Int = 8, handshakeSeconds: Double = 5, silentSeconds: Double = 60) {
            self.maxConnections = maxConnections
            self.maxForeign = maxForeign
            self.handshakeSeconds = handshakeSeconds
            self.silentSeconds = silentSeconds
        }
    }

    /// The process at the other end, as the kernel recorded it at connect (SO_PEERCRED).
    public struct Peer: Sendable, Equatable, CustomStringConvertible {
        public var pid: Int32
        public var uid: UInt32
        public var gid: UInt32
        public init(pid: Int32, uid: UInt32, gid: UInt32) {
            self.pid = pid
            self.uid = uid
            self.gid = gid
        }
        public var description: String { uid == .max ? "a peer of unknown credentials" : "pid \(pid), uid \(uid)" }
    }

    /// The DNS component's writer: Knot runs as root in its container (Docker's default user). A
    /// root process of the host passes too, as it could do anything anyway.
    public static let runsAsRoot: @Sendable (Peer) -> Bool = { $0.uid == 0 }

    struct Connection {
        var receiver = FrameStreamsReceiver()
        let peer: Peer
        let isComponent: Bool
        let accepted: Double
        var lastRead: Double
    }

    public let path: String
    public let limits: Limits
    let isComponent: @Sendable (Peer) -> Bool
    let listenFD: Int32
    var connections: [Int32: Connection] = [:]
    /// One decoder for every sender: what ldns made of recent messages serves them all.
    var decoder = DnstapDecoder()

    /// Binds `path` (a stale socket from a previous run is replaced), `mode` on the socket.
    public init(path: String, mode: mode_t = 0o660, limits: Limits = Limits(),
                isComponent: @escaping @Sendable (Peer) -> Bool = DnstapListener.runsAsRoot) throws(PVError) {
        self.path = path
        self.limits = limits
        self.isComponent = isComponent
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
        case connected(senders: Int, peer: Peer)
        /// `finished`: the sender ended its stream (STOP); otherwise it closed or broke the
        /// connection, or the listener closed it (the drop and the journal say why).
        case disconnected(senders: Int, peer: Peer, finished: Bool)
    }

    /// Serves until `deadline` on `clock`'s monotonic time (or until `stop` says so). `onProblem`
    /// gets what a closed or refused connection sent, with its peer, for the journal (a line a
    /// peer provokes at will: the caller limits them); peer text in it is escaped.
    public func serve(until deadline: Double, clock: AgentClock, stop: () -> Bool,
                      onRecord: (DnstapRecord) -> Void, onDrop: (DnstapDropReason) -> Void,
                      onSender: (SenderEvent) -> Void = { _ in }, onProblem: (String) -> Void = { _ in }) {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while !stop() {
            var now = clock.monotonic()
            let remaining = deadline - now
            guard remaining > 0 else { return }
            closeExpired(now: now, onDrop: onDrop, onSender: onSender, onProblem: onProblem)
            let wait = max(0, min(remaining, 0.5, nextExpiry() - now))
            var fds = [pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0)]
            fds += connections.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&fds, nfds_t(fds.count), Int32(wait * 1000) + 1)
            guard ready > 0 else { continue }
            now = clock.monotonic()
            for entry in fds where entry.revents != 0 {
                if entry.fd == listenFD {
                    acceptWaiting(now: now, onDrop: onDrop, onSender: onSender, onProblem: onProblem)
                    continue
                }
                // Closed earlier in this round (evicted for a newer connection).
                guard var connection = connections[entry.fd] else { continue }
                let n = read(entry.fd, &buffer, buffer.count)
                if n < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                guard n > 0 else {
                    if closeConnection(entry.fd) { onSender(.disconnected(senders: connections.count, peer: connection.peer, finished: false)) }
                    continue
                }
                connection.lastRead = now
                do {
                    let events = try connection.receiver.feed(Array(buffer[0..<n]))
                    connections[entry.fd] = connection
                    for event in events {
                        switch event {
                        case .reply(let bytes):
                            // A few bytes, once each (ACCEPT, FINISH), on a socket that never blocks:
                            // a sender that does not take them has broken its connection.
                            let written = bytes.withUnsafeBytes { write(entry.fd, $0.baseAddress, $0.count) }
                            if written != bytes.count, closeConnection(entry.fd) {
                                onSender(.disconnected(senders: connections.count, peer: connection.peer, finished: false))
                            }
                        case .frame(let frame):
                            switch decoder.decode(frame) {
                            case .success(let record): onRecord(record)
                            case .failure(let drop): onDrop(.frame(drop))
                            }
                        case .finished:
                            if closeConnection(entry.fd) { onSender(.disconnected(senders: connections.count, peer: connection.peer, finished: true)) }
                        }
                        if connections[entry.fd] == nil { break }
                    }
                } catch {
                    onDrop(.connection(error.kind))
                    onProblem("closed a dnstap connection (\(connection.peer)): \(error.description.escapingControlsInline)")
                    if closeConnection(entry.fd) { onSender(.disconnected(senders: connections.count, peer: connection.peer, finished: false)) }
                }
            }
        }
    }

    /// Every connection waiting in the backlog (at most a table's worth per wake), each given a
    /// slot, another's (`makeRoom`), or refused.
    func acceptWaiting(now: Double, onDrop: (DnstapDropReason) -> Void, onSender: (SenderEvent) -> Void, onProblem: (String) -> Void) {
        for _ in 0..<limits.maxConnections {
            // (accept4 is a GNU extension Glibc's module does not show.)
            let client = accept(listenFD, nil, nil)
            guard client >= 0 else { return }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            let peer = Self.peer(of: client)
            let component = isComponent(peer)
            if let refusal = makeRoom(forComponent: component, onDrop: onDrop, onSender: onSender, onProblem: onProblem) {
                close(client)
                onDrop(.connection(.tooManyConnections))
                onProblem("refused a dnstap connection (\(peer)): \(refusal)")
                continue
            }
            connections[client] = Connection(peer: peer, isComponent: component, accepted: now, lastRead: now)
            onSender(.connected(senders: connections.count, peer: peer))
        }
    }

    /// Room for one more connection: nil when there is (a slot free, or one given way), else why not.
    func makeRoom(forComponent component: Bool, onDrop: (DnstapDropReason) -> Void, onSender: (SenderEvent) -> Void,
                  onProblem: (String) -> Void) -> String? {
        let foreign = connections.values.filter { !$0.isComponent }.count
        if !component && foreign >= limits.maxForeign {
            return "\(foreign) writers that are not the DNS component are connected (at most \(limits.maxForeign))"
        }
        guard connections.count >= limits.maxConnections else { return nil }
        // The oldest unfinished handshake, a writer that is not the component's first; a writer that
        // is not the component gives way only to another such writer.
        let unfinished = connections.filter { !$0.value.receiver.isStreaming && (component || !$0.value.isComponent) }
            .min { ($0.value.isComponent ? 1 : 0, $0.value.accepted) < ($1.value.isComponent ? 1 : 0, $1.value.accepted) }
        let foreignStream = component ? connections.filter { !$0.value.isComponent }.min { $0.value.lastRead < $1.value.lastRead } : nil
        guard let (fd, victim) = unfinished ?? foreignStream else {
            return "\(connections.count) connected (at most \(limits.maxConnections)), none of which may give way"
        }
        onDrop(.connection(.evicted))
        onProblem("closed a dnstap connection (\(victim.peer)) to make room for a newer one (\(connections.count) connected)")
        if closeConnection(fd) { onSender(.disconnected(senders: connections.count, peer: victim.peer, finished: false)) }
        return nil
    }

    /// Closes the connections past their handshake or silence bound.
    func closeExpired(now: Double, onDrop: (DnstapDropReason) -> Void, onSender: (SenderEvent) -> Void, onProblem: (String) -> Void) {
        for (fd, connection) in connections {
            let why: DnstapStreamDrop
            if !connection.receiver.isStreaming {
                guard now - connection.accepted >= limits.handshakeSeconds else { continue }
                why = .noHandshake
                onProblem("closed a dnstap connection (\(connection.peer)): no Frame Streams handshake within \(limits.handshakeSeconds) s")
            } else {
                guard !mayFallSilent(connection), now - connection.lastRead >= limits.silentSeconds else { continue }
                why = .silent
                onProblem("closed a dnstap connection (\(connection.peer)): nothing read for \(limits.silentSeconds) s"
                          + (connection.receiver.hasPartialFrame ? " in the middle of a frame" : ""))
            }
            onDrop(.connection(why))
            if closeConnection(fd) { onSender(.disconnected(senders: connections.count, peer: connection.peer, finished: false)) }
        }
    }

    /// The DNS component's writer between two frames: silent as long as the server is quiet.
    func mayFallSilent(_ connection: Connection) -> Bool { connection.isComponent && !connection.receiver.hasPartialFrame }

    /// When the next handshake or silence bound passes (the poll's timeout).
    func nextExpiry() -> Double {
        connections.values.reduce(Double.infinity) { next, connection in
            if !connection.receiver.isStreaming { return min(next, connection.accepted + limits.handshakeSeconds) }
            return mayFallSilent(connection) ? next : min(next, connection.lastRead + limits.silentSeconds)
        }
    }

    /// Closes a sender's connection; false when it was closed already.
    @discardableResult
    func closeConnection(_ fd: Int32) -> Bool {
        guard connections.removeValue(forKey: fd) != nil else { return false }
        close(fd)
        return true
    }

    /// The peer's credentials (struct ucred: pid, uid, gid); unknown ones are never the component's.
    static func peer(of fd: Int32) -> Peer {
        var credentials = [Int32](repeating: 0, count: 3)
        var length = socklen_t(MemoryLayout<Int32>.size * 3)
        guard getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0, length == socklen_t(MemoryLayout<Int32>.size * 3) else {
            return Peer(pid: 0, uid: .max, gid: .max)
        }
        return Peer(pid: credentials[0], uid: UInt32(bitPattern: credentials[1]), gid: UInt32(bitPattern: credentials[2]))
    }
}
