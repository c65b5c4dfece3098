import CRabbitMQ
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// Where published messages go: a durable exchange, a durable queue bound to it, the routing key.
public struct AMQPDestination: Sendable, Equatable {
    public var exchange: String
    public var queue: String
    public var routingKey: String

    public init(exchange: String, queue: String, routingKey: String) {
        self.exchange = exchange
        self.queue = queue
        self.routingKey = routingKey
    }
}

/// Publishes persistent messages with publisher confirms (confirm.select) on one connection: the
/// exchange and queue declared durable and bound when it opens, the messages published in order
/// and the broker's acks read as they come. A message counts as delivered only once acknowledged:
/// the caller keeps (spools) the others and offers them again; what was already sent on this
/// connection is not sent again, only awaited. At most `windowMessages` and `windowBytes` are
/// published and unconfirmed at a time: that bounds what a write may wait for, what a broker that
/// stops reading holds of ours, and so the duplicates a next connection may cause.
///
/// A broker under a resource alarm says `connection.blocked` (the login announced the capability)
/// and reads nothing more until `connection.unblocked`: the publisher then sends nothing, keeps its
/// one connection and waits on it (a new one would be blocked too, and leave the old one on the
/// broker, its messages taken later as duplicates). A nack, a returned (unroutable) message, a
/// close, a write the broker does not take within the bound, or silence past the bound while not
/// blocked end the connection; open a new one to go on.
public final class AMQPPublisher {
    let connection: AMQPConnection
    public let destination: AMQPDestination
    /// What may be published and not yet confirmed (1 MiB: 31 samples of 33 kB).
    public static let windowMessages = 64
    public static let windowBytes = 1 << 20
    /// The channel's last delivery tag (confirm mode numbers publishes 1, 2, ...).
    var lastTag: UInt64 = 0
    /// Sent on this connection and not yet reported confirmed to the caller, oldest first.
    var inFlight: [(id: String, tag: UInt64, bytes: Int)] = []
    /// Every tag up to this one is acked; those above it acked one by one.
    var ackedThrough: UInt64 = 0
    var ackedSingly: Set<UInt64> = []
    /// When a message was last sent or confirmed, or the broker unblocked us (monotonic ns).
    var lastProgress: UInt64 = 0
    /// The broker's alarm ("memory", "disk") while it blocks this connection; nil otherwise.
    public private(set) var blockedBy: String?
    /// The block was reported to the caller (a publish returns at once when it starts).
    var blockReported = false
    public private(set) var broken: AMQPError?

    public var target: String { connection.target }

    /// Connects, selects confirms, declares the exchange (direct) and the queue (both durable) and binds them.
    public static func open(_ endpoint: AMQPEndpoint, destination: AMQPDestination, connectTimeout: Double = 2,
                            totalTimeout: Double = 4, caFile: String? = nil,
                            socketGuard: AMQPSocketGuard = AMQPSocketGuard()) -> Result<AMQPPublisher, AMQPError> {
        let deadline = Deadline(secondsFromNow: totalTimeout)
        let connection: AMQPConnection
        switch AMQPConnection.open(endpoint, connectTimeout: connectTimeout, totalTimeout: totalTimeout, caFile: caFile, socketGuard: socketGuard) {
        case .failure(let error): return .failure(error)
        case .success(let c): connection = c
        }
        connection.bound(by: deadline)
        socketGuard.arm(Double(deadline.remainingMilliseconds) / 1000 + AMQPConnection.guardGrace)
        defer { socketGuard.disarm() }
        let state = connection.state
        func failed(_ what: String) -> AMQPError {
            let e = connection.failure(amqp_get_rpc_reply(state), phase: .channel)
            return socketGuard.isCut ? e : AMQPError(e.kind, phase: .channel, "\(what): \(e.detail)")
        }
        switch pv_amqp_declare_publisher(state, 1, destination.exchange, destination.queue, destination.routingKey) {
        case 0: break
        case 1: return .failure(failed("publisher confirms refused"))
        case 2: return .failure(failed("cannot declare the exchange '\(destination.exchange)'"))
        case 3: return .failure(failed("cannot declare the queue '\(destination.queue)'"))
        default: return .failure(failed("cannot bind the queue '\(destination.queue)' to '\(destination.exchange)'"))
        }
        return .success(AMQPPublisher(connection: connection, destination: destination))
    }

    init(connection: AMQPConnection, destination: AMQPDestination) {
        self.connection = connection
        self.destination = destination
    }

    /// Publishes `messages` (body and message id each, oldest first) in order, those this connection
    /// has not sent yet, and waits for their confirms: at most `timeout` seconds without one while
    /// the broker is not blocking. Returns how many from the first were confirmed, in order: all of
    /// them, or fewer with the reason. A broker that blocks publishers returns `.blocked` (the
    /// publisher is kept: offer the same messages again, it then waits up to `timeout` for the
    /// block to lift); any other reason breaks the publisher.
    public func publish(_ messages: [(id: String, body: [UInt8])], timeout: Double) -> (confirmed: Int, error: AMQPError?) {
        if let broken { return (0, broken) }
        guard !messages.isEmpty else { return (0, nil) }
        var tagOf: [String: UInt64] = [:]
        for entry in inFlight { tagOf[entry.id] = entry.tag }
        let bound = UInt64(max(0.001, timeout) * 1e9)
        lastProgress = Monotonic.nanoseconds()
        let blockedWait = Deadline(secondsFromNow: timeout)
        var next = 0
        var done = 0
        func confirmed(_ tag: UInt64) -> Bool { tag <= ackedThrough || ackedSingly.contains(tag) }
        func advance() {
            while done < messages.count, let tag = tagOf[messages[done].id], confirmed(tag) { done += 1 }
        }
        func finish(_ error: AMQPError?) -> (confirmed: Int, error: AMQPError?) {
            advance()
            // Reported confirmed: forgotten here. Confirmed ones the caller no longer offers (its
            // spool dropped them) too; what is unconfirmed stays awaited.
            let reported = Set(messages.prefix(done).map(\.id))
            let offered = Set(messages.map(\.id))
            inFlight.removeAll { reported.contains($0.id) || (confirmed($0.tag) && !offered.contains($0.id)) }
            if let error, error.kind != .blocked { broken = error }
            return (done, error)
        }
        while true {
            // What the broker said meanwhile, without waiting.
            if let error = readFrames(waitingUpTo: 0) { return finish(error) }
            advance()
            if done == messages.count { return finish(nil) }
            if let alarm = blockedBy {
                if !blockReported {
                    blockReported = true
                    return finish(blockedError(alarm))
                }
                // Still blocked since an earlier call: wait for the broker to lift it (or confirm).
                if blockedWait.hasPassed { return finish(blockedError(alarm)) }
                if let error = readFrames(waitingUpTo: Double(blockedWait.remainingMilliseconds) / 1000) { return finish(error) }
                continue
            }
            let unconfirmed = inFlight.filter { !confirmed($0.tag) }
            let bytes = unconfirmed.reduce(0) { $0 + $1.bytes }
            if next < messages.count, tagOf[messages[next].id] != nil {
                next += 1
                continue
            }
            if next < messages.count, unconfirmed.count < Self.windowMessages,
               unconfirmed.isEmpty || bytes + messages[next].body.count <= Self.windowBytes {
                if let error = send(messages[next], timeout: timeout) { return finish(error) }
                tagOf[messages[next].id] = lastTag
                next += 1
                continue
            }
            // The window is full (or everything is sent): wait for confirms.
            let waited = Monotonic.nanoseconds() - lastProgress
            if waited >= bound {
                return finish(AMQPError(.timedOut, phase: .channel,
                                        "\(target) did not confirm \(unconfirmed.count) message(s) within \(AMQPLogin.format(timeout)) s"))
            }
            if let error = readFrames(waitingUpTo: Double(bound - waited) / 1e9) { return finish(error) }
        }
    }

    func blockedError(_ alarm: String) -> AMQPError {
        AMQPError(.blocked, phase: .channel, "the broker blocks publishers (its alarm: \(alarm))")
    }

    /// One message, its write bounded by `timeout` (rabbitmq-c's own has no bound).
    func send(_ message: (id: String, body: [UInt8]), timeout: Double) -> AMQPError? {
        let socketGuard = connection.socketGuard
        socketGuard.arm(timeout)
        let status = message.body.withUnsafeBytes { body in
            pv_amqp_publish_persistent(connection.state, 1, destination.exchange, destination.routingKey,
                                       body.baseAddress, body.count, message.id)
        }
        socketGuard.disarm()
        guard status == Int32(AMQP_STATUS_OK.rawValue) else {
            if socketGuard.isCut { return AMQPError(.other, phase: .channel, "stopping") }
            if socketGuard.expired {
                return AMQPError(.timedOut, phase: .channel,
                                 "\(target) did not take a message within \(AMQPLogin.format(timeout)) s (it reads nothing more; the connection was cut)")
            }
            return AMQPError(.connectionLost, phase: .channel, "\(target): publishing failed (\(AMQPError.libraryMessage(status)))")
        }
        lastTag += 1
        inFlight.append((message.id, lastTag, message.body.count))
        lastProgress = Monotonic.nanoseconds()
        return nil
    }

    /// Reads what the broker sent: the first frame within `seconds` (0: only what has come), then
    /// whatever else has come. Acks, nacks, returns, closes, connection.blocked and unblocked.
    func readFrames(waitingUpTo seconds: Double) -> AMQPError? {
        var wait = seconds
        while true {
            var frame = amqp_frame_t()
            var tv = AMQPConnection.timeval(seconds: max(0, wait))
            wait = 0
            let status = amqp_simple_wait_frame_noblock(connection.state, &frame, &tv)
            if status == Int32(AMQP_STATUS_TIMEOUT.rawValue) { return nil }
            guard status == Int32(AMQP_STATUS_OK.rawValue) else {
                if connection.socketGuard.isCut { return AMQPError(.other, phase: .channel, "stopping") }
                return AMQPError(.connectionLost, phase: .channel, "\(target) closed the connection while confirming (\(AMQPError.libraryMessage(status)))")
            }
            var tag: UInt64 = 0
            var multiple: Int32 = 0
            var reason: UnsafePointer<CChar>?
            var length = 0
            let kind = pv_amqp_frame_confirm(&frame, &tag, &multiple, &reason, &length)
            let text = reason.map { AMQPConnection.text($0, length) } ?? ""
            // The frame's memory is rabbitmq-c's pool: given back now, or it grows with every ack.
            amqp_maybe_release_buffers(connection.state)
            switch kind {
            case 1:
                // A multiple ack covers every tag up to it; a single one only itself (kept until
                // the tags before it are acked too: what counts is the confirmed prefix).
                if multiple != 0 { ackedThrough = max(ackedThrough, tag) } else if tag > ackedThrough { ackedSingly.insert(tag) }
                while ackedSingly.remove(ackedThrough + 1) != nil { ackedThrough += 1 }
                ackedSingly = ackedSingly.filter { $0 > ackedThrough }
                lastProgress = Monotonic.nanoseconds()
            case 2: return AMQPError(.other, phase: .channel, "\(target) refused (nacked) a message")
            case 3: return AMQPError(.channelFailed, phase: .channel, "\(target) routed a message to no queue (was '\(destination.queue)' deleted?)")
            case 4: return AMQPError(.connectionLost, phase: .channel, "\(target) closed the channel")
            case 5:
                blockedBy = AMQPConnection.alarm(text)
                blockReported = false
            case 6:
                blockedBy = nil
                lastProgress = Monotonic.nanoseconds()
            default: continue
            }
        }
    }

    /// Closes the channel and the connection within `seconds`; a broken one, or one the broker
    /// blocks (it reads nothing, so it would answer nothing), is only dropped.
    public func close(within seconds: Double = 1) {
        if broken == nil && blockedBy == nil { connection.close(within: seconds) }
    }

    /// Ends whatever this publisher waits on, from any thread (a stop); it is broken then.
    public func cut() { connection.socketGuard.cut() }
}
