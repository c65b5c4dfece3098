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
/// exchange and queue declared durable and bound when it opens, each batch published, then the
/// broker's acks awaited within a bound. A message counts as delivered only once acknowledged: the
/// caller keeps (spools) the others. A nack, a returned (unroutable) message, a close or silence
/// past the bound end the connection; open a new one to go on.
public final class AMQPPublisher {
    let connection: AMQPConnection
    public let destination: AMQPDestination
    /// The channel's last delivery tag (confirm mode numbers publishes 1, 2, ...).
    var lastTag: UInt64 = 0
    public private(set) var broken: AMQPError?

    public var target: String { connection.target }

    /// Connects, selects confirms, declares the exchange (direct) and the queue (both durable) and binds them.
    public static func open(_ endpoint: AMQPEndpoint, destination: AMQPDestination, connectTimeout: Double = 2,
                            totalTimeout: Double = 4, caFile: String? = nil) -> Result<AMQPPublisher, AMQPError> {
        let deadline = Deadline(secondsFromNow: totalTimeout)
        let connection: AMQPConnection
        switch AMQPConnection.open(endpoint, connectTimeout: connectTimeout, totalTimeout: totalTimeout, caFile: caFile) {
        case .failure(let error): return .failure(error)
        case .success(let c): connection = c
        }
        connection.bound(by: deadline)
        let state = connection.state
        func failed(_ what: String) -> AMQPError {
            let e = AMQPLogin.replyFailure(amqp_get_rpc_reply(state), phase: .channel, endpoint: endpoint, target: connection.target)
            return AMQPError(e.kind, phase: .channel, "\(what): \(e.detail)")
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

    /// Publishes `messages` (body and message id each) in order and waits up to `timeout` seconds
    /// for their confirms. Returns how many from the first were confirmed, in order: all of them,
    /// or fewer with the reason (the publisher is then broken).
    public func publish(_ messages: [(id: String, body: [UInt8])], timeout: Double) -> (confirmed: Int, error: AMQPError?) {
        if let broken { return (0, broken) }
        guard !messages.isEmpty else { return (0, nil) }
        let first = lastTag + 1
        for message in messages {
            let status = message.body.withUnsafeBytes { body in
                pv_amqp_publish_persistent(connection.state, 1, destination.exchange, destination.routingKey,
                                           body.baseAddress, body.count, message.id)
            }
            guard status == Int32(AMQP_STATUS_OK.rawValue) else {
                return fail(confirmedUpTo: first - 1, first: first,
                            AMQPError(.connectionLost, phase: .channel, "\(target): publishing failed (\(AMQPError.libraryMessage(status)))"))
            }
            lastTag += 1
        }
        // Acks may cover several tags (multiple); every tag up to lastTag must be acked.
        let deadline = Deadline(secondsFromNow: timeout)
        var acked = first - 1
        var single: Set<UInt64> = []
        while acked < lastTag {
            var frame = amqp_frame_t()
            var tv = AMQPConnection.timeval(seconds: max(0.001, Double(deadline.remainingMilliseconds) / 1000))
            let status = amqp_simple_wait_frame_noblock(connection.state, &frame, &tv)
            if status == Int32(AMQP_STATUS_TIMEOUT.rawValue) {
                return fail(confirmedUpTo: acked, first: first,
                            AMQPError(.timedOut, phase: .channel, "\(target) did not confirm \(lastTag - acked) message(s) within \(AMQPLogin.format(timeout)) s"))
            }
            guard status == Int32(AMQP_STATUS_OK.rawValue) else {
                return fail(confirmedUpTo: acked, first: first,
                            AMQPError(.connectionLost, phase: .channel, "\(target) closed the connection while confirming (\(AMQPError.libraryMessage(status)))"))
            }
            var tag: UInt64 = 0
            var multiple: Int32 = 0
            switch pv_amqp_frame_confirm(&frame, &tag, &multiple) {
            case 1:
                // A multiple ack covers every tag up to it; a single one only itself (kept until
                // the tags before it are acked too: what counts is the confirmed prefix).
                if multiple != 0 { acked = max(acked, tag) } else if tag > acked { single.insert(tag) }
                while single.remove(acked + 1) != nil { acked += 1 }
            case 2:
                return fail(confirmedUpTo: acked, first: first, AMQPError(.other, phase: .channel, "\(target) refused (nacked) a message"))
            case 3:
                return fail(confirmedUpTo: acked, first: first,
                            AMQPError(.channelFailed, phase: .channel, "\(target) routed a message to no queue (was '\(destination.queue)' deleted?)"))
            case 4:
                return fail(confirmedUpTo: acked, first: first, AMQPError(.connectionLost, phase: .channel, "\(target) closed the channel"))
            default: continue
            }
        }
        return (messages.count, nil)
    }

    func fail(confirmedUpTo acked: UInt64, first: UInt64, _ error: AMQPError) -> (confirmed: Int, error: AMQPError?) {
        broken = error
        return (Int(acked + 1 - first), error)
    }

    /// Closes the channel and the connection within `seconds` (a broken one is only dropped).
    public func close(within seconds: Double = 1) {
        if broken == nil { connection.close(within: seconds) }
    }
}
