import PVCore
import PVHTTP

/// How a beat ended, in the terms its exit code reports.
public enum DeliveryResult: Sendable, Equatable {
    /// 2xx: the management application has the beat.
    case accepted(HTTPResponse)
    /// 4xx: the server refused this beat (token, resource ID); retrying cannot help.
    case rejected(HTTPResponse)
    /// 5xx after the retry, or a status the protocol does not expect (1xx, 3xx).
    case serverError(HTTPResponse)
    /// No HTTP answer at all: unreachable, timed out, TLS, connection lost.
    case failed(HTTPError)
}

public struct DeliveryAttempt: Sendable, Equatable {
    public var milliseconds: Double
    /// `200 OK`, or the error.
    public var outcome: String
}

public struct Delivery: Sendable, Equatable {
    public var result: DeliveryResult
    public var attempts: [DeliveryAttempt]
}

/// Sends one heartbeat: POST with the bearer token, certificate verification
/// always on, one retry on a transient failure, everything inside one total
/// time budget. The first attempt gets half the budget (less the pause) so
/// that a hanging server still leaves time for the retry; the whole beat never
/// runs longer than `totalTimeout`, which stays well under the 30 s interval.
public struct HeartbeatSender: Sendable {
    public var transport: any HTTPTransport
    public var url: String
    public var token: String
    public var caFile: String?
    public var totalTimeout: Double
    public var connectTimeout: Double
    public var retryPause: Double = 0.5
    /// Monotonic seconds, and a sleep: seams so unit tests run without waiting.
    public var now: @Sendable () -> Double
    public var sleep: @Sendable (Double) -> Void

    public init(transport: any HTTPTransport, url: String, token: String, caFile: String?, totalTimeout: Double,
                connectTimeout: Double, now: @escaping @Sendable () -> Double, sleep: @escaping @Sendable (Double) -> Void) {
        self.transport = transport
        self.url = url
        self.token = token
        self.caFile = caFile
        self.totalTimeout = totalTimeout
        self.connectTimeout = connectTimeout
        self.now = now
        self.sleep = sleep
    }

    /// Below this, a retry would only be a timeout waiting to happen.
    static let minimumAttemptSeconds = 0.5

    public func request(body: [UInt8], timeout: Double) -> HTTPRequest {
        HTTPRequest(method: "POST", url: url,
                    headers: [HTTPHeader("Authorization", "Bearer \(token)"), HTTPHeader("Content-Type", "application/json")],
                    body: body, connectTimeout: min(connectTimeout, timeout), totalTimeout: timeout, caFile: caFile,
                    maxResponseBytes: 64 << 10)
    }

    public func send(body: [UInt8]) -> Delivery {
        let start = now()
        var attempts: [DeliveryAttempt] = []
        var timeout = (totalTimeout - retryPause) / 2
        while true {
            let attemptStart = now()
            let result: DeliveryResult
            var transient = false
            do {
                let response = try transport.perform(request(body: body, timeout: timeout))
                switch response.status {
                case 200..<300: result = .accepted(response)
                case 400..<500: result = .rejected(response)
                case 500..<600: result = .serverError(response); transient = true
                default: result = .serverError(response)
                }
                attempts.append(DeliveryAttempt(milliseconds: (now() - attemptStart) * 1000, outcome: response.statusLine))
            } catch {
                result = .failed(error)
                transient = error.isTransient
                attempts.append(DeliveryAttempt(milliseconds: (now() - attemptStart) * 1000, outcome: error.description))
            }
            let remaining = totalTimeout - (now() - start) - retryPause
            guard transient, attempts.count == 1, remaining >= Self.minimumAttemptSeconds else {
                return Delivery(result: result, attempts: attempts)
            }
            sleep(retryPause)
            timeout = remaining
        }
    }
}
