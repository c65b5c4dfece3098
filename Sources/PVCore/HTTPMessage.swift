/// One HTTP header field. Order and repetition are kept as sent or received.
public struct HTTPHeader: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One HTTP exchange to perform: everything that decides where it goes and
/// how long it may take is explicit, so no caller inherits libcurl's defaults
/// (300 s to connect, no total limit).
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]?
    /// Seconds allowed to establish the connection (TCP, and TLS for https).
    public var connectTimeout: Double
    /// Seconds allowed for the whole exchange, connection included.
    public var totalTimeout: Double
    /// A PEM file of CA certificates to trust instead of the system store
    /// (a management application behind a private CA).
    public var caFile: String?
    /// Talk HTTP over this unix socket instead of TCP (the Docker Engine API).
    /// The URL's host is then only used for the Host header.
    public var unixSocketPath: String?
    /// A larger response body is refused, so a broken peer cannot exhaust memory.
    public var maxResponseBytes: Int

    public init(method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8]? = nil,
                connectTimeout: Double = 3, totalTimeout: Double = 10, caFile: String? = nil,
                unixSocketPath: String? = nil, maxResponseBytes: Int = 4 << 20) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.caFile = caFile
        self.unixSocketPath = unixSocketPath
        self.maxResponseBytes = maxResponseBytes
    }
}

/// A complete response: any status code is a response, not an error. Errors
/// are reserved for exchanges that did not produce one (see `HTTPError`).
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    /// The reason phrase of the status line, if the server sent one.
    public var reason: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// Wall time of the exchange as libcurl measured it.
    public var milliseconds: Double

    public init(status: Int, reason: String = "", headers: [HTTPHeader] = [], body: [UInt8] = [], milliseconds: Double = 0) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.milliseconds = milliseconds
    }

    /// The first header with this name, compared case-insensitively as HTTP requires.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// `200 OK`, `401 Unauthorized`, or just `418` without a reason phrase.
    public var statusLine: String { reason.isEmpty ? "\(status)" : "\(status) \(reason)" }
}
