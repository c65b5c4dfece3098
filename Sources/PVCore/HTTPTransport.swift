/// Anything that performs an HTTP exchange: the agent environment's seam to the management
/// server, the image registry and the Docker Engine API. The live one (libcurl) lives in PVHTTP,
/// so that only the tools that speak HTTP link libcurl.
public protocol HTTPTransport: Sendable {
    func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse
}

/// The transport of a tool that speaks no HTTP (pv_stop): a request reaching it is a
/// bug in the tool, reported as an unusable request rather than a crash on an operator's server.
public struct NoHTTPTransport: HTTPTransport {
    public init() {}
    public func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        throw HTTPError(.invalidRequest, detail: "this tool makes no HTTP requests (asked for \(request.method) \(request.url))")
    }
}

/// Fails every request: a unit test that reaches HTTP must say which answers it expects.
struct FailingHTTPTransport: HTTPTransport {
    func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        fatalError("unit test sent \(request.method) \(request.url) without a fake HTTP transport")
    }
}
