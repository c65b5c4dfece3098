import CCurl
import PVCore
#if canImport(Glibc)
import Glibc
#endif

/// The libcurl transport: one easy handle per request, nothing shared between
/// requests, so it is safe from any thread and a failed exchange cannot taint
/// the next one.
public struct LiveHTTPTransport: HTTPTransport {
    /// A User-Agent naming the tool, so the management application's logs say who called.
    public var userAgent: String

    /// Where an https request without its own CA file finds one.
    public var trustStore: TrustStore

    public init(userAgent: String = "provision-agent", trustStore: TrustStore = .system) {
        self.userAgent = userAgent
        self.trustStore = trustStore
        _ = LiveHTTPTransport.processSetup
    }

    /// libcurl's global init is not thread-safe, so it runs exactly once (a
    /// static let is initialised once, atomically). With CURLOPT_NOSIGNAL set
    /// libcurl no longer blocks SIGPIPE itself, and a peer that closes while
    /// we write would kill the process: ignore SIGPIPE and take EPIPE instead.
    static let processSetup: Bool = {
        signal(SIGPIPE, SIG_IGN)
        guard pv_openssl_init_without_config() == 1 else { return false }
        return curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    public func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        guard LiveHTTPTransport.processSetup else { throw HTTPError(.other, detail: "libcurl could not be initialised") }
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            throw HTTPError(.invalidRequest, detail: "only http:// and https:// URLs are supported (got \(request.url.prefix(60)))")
        }
        guard request.connectTimeout > 0, request.totalTimeout > 0 else {
            throw HTTPError(.invalidRequest, detail: "timeouts must be positive")
        }
        // Over TLS, name the CA file always: this libcurl has no default one (see TrustStore).
        var caFile: String?
        if request.url.hasPrefix("https://") {
            guard let found = trustStore.caFile(configured: request.caFile) else {
                throw HTTPError(.tlsFailed, detail: "\(trustStore.notFoundMessage); \(TrustStore.notFoundHint)")
            }
            caFile = found
        }
        guard let handle = curl_easy_init() else { throw HTTPError(.other, detail: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }

        let collector = ResponseCollector(limit: request.maxResponseBytes)
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        func set(_ code: CURLcode, _ option: String) throws(HTTPError) {
            guard code == CURLE_OK else {
                throw HTTPError(.invalidRequest, curlCode: Int32(code.rawValue), detail: "\(option): \(String(cString: curl_easy_strerror(code)))")
            }
        }

        try set(pv_curl_setopt_string(handle, CURLOPT_URL, request.url), "URL")
        try set(pv_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try set(pv_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        // Only plain HTTP(S), and no redirects: a redirect would carry the
        // Authorization header to wherever the Location points.
        try set(Self.restrictToHTTP(handle), "PROTOCOLS")
        try set(pv_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0), "FOLLOWLOCATION")
        try set(pv_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout)), "CONNECTTIMEOUT_MS")
        try set(pv_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.totalTimeout)), "TIMEOUT_MS")
        try set(pv_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1), "SSL_VERIFYPEER")
        try set(pv_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2), "SSL_VERIFYHOST")
        if let caFile {
            try set(pv_curl_setopt_string(handle, CURLOPT_CAINFO, caFile), "CAINFO")
            try set(pv_curl_setopt_long(handle, CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2)), "SSLVERSION")
        }
        if let socket = request.unixSocketPath {
            try set(pv_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket), "UNIX_SOCKET_PATH")
        }
        try set(pv_curl_setopt_string(handle, CURLOPT_USERAGENT, userAgent), "USERAGENT")

        var headers = request.headers
        // libcurl waits up to 1 s for "100 Continue" on bodies over 1 KiB
        // unless told not to; our bodies are small and the wait is pure latency.
        if !headers.contains(where: { $0.name.lowercased() == "expect" }) { headers.append(HTTPHeader("Expect", "")) }
        for header in headers {
            // Checked as bytes: in a Swift String "\r\n" is one Character, equal to neither "\r" nor "\n".
            guard !header.name.utf8.contains(where: { $0 == 58 || $0 == 13 || $0 == 10 }),
                  !header.value.utf8.contains(where: { $0 == 13 || $0 == 10 }) else {
                throw HTTPError(.invalidRequest, detail: "header \(header.name.prefix(40)) contains a line break or colon")
            }
            // "Name;" is libcurl's way to send a header with an empty value; "Name:" would remove it.
            let line = header.value.isEmpty ? "\(header.name):" : "\(header.name): \(header.value)"
            guard let appended = curl_slist_append(headerList, line) else { throw HTTPError(.other, detail: "out of memory") }
            headerList = appended
        }
        try set(pv_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")

        switch request.method {
        case "GET": try set(pv_curl_setopt_long(handle, CURLOPT_HTTPGET, 1), "HTTPGET")
        case "HEAD": try set(pv_curl_setopt_long(handle, CURLOPT_NOBODY, 1), "NOBODY")
        case "POST": try set(pv_curl_setopt_long(handle, CURLOPT_POST, 1), "POST")
        default: try set(pv_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method), "CUSTOMREQUEST")
        }
        if let body = request.body {
            try set(pv_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "POSTFIELDSIZE_LARGE")
            // COPYPOSTFIELDS copies the bytes, so no Swift buffer has to outlive this call.
            let copied = (body.isEmpty ? [0] : body).withUnsafeBytes { bytes in
                pv_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            }
            try set(copied, "COPYPOSTFIELDS")
        } else if request.method == "POST" {
            try set(pv_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0), "POSTFIELDSIZE_LARGE")
        }

        let context = Unmanaged.passUnretained(collector).toOpaque()
        try set(pv_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
            return collector.appendBody(UnsafeRawBufferPointer(start: data, count: size * count)) ? size * count : 0
        }), "WRITEFUNCTION")
        try set(pv_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context), "WRITEDATA")
        try set(pv_curl_setopt_write(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let collector = Unmanaged<ResponseCollector>.fromOpaque(context).takeUnretainedValue()
            collector.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }), "HEADERFUNCTION")
        try set(pv_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context), "HEADERDATA")

        let result = withExtendedLifetime(collector) { curl_easy_perform(handle) }

        var totalMicros: curl_off_t = 0
        _ = pv_curl_getinfo_off(handle, CURLINFO_TOTAL_TIME_T, &totalMicros)
        guard result == CURLE_OK else {
            var connectMicros: curl_off_t = 0
            _ = pv_curl_getinfo_off(handle, CURLINFO_CONNECT_TIME_T, &connectMicros)
            let message = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(result))
            if collector.overflowed {
                throw HTTPError(.responseTooLarge, curlCode: Int32(result.rawValue),
                                detail: "the response body exceeds \(request.maxResponseBytes) bytes")
            }
            let kind = Self.classify(code: result, message: message, connected: connectMicros > 0)
            var detail = message
            if let socket = request.unixSocketPath { detail = "\(socket): \(message)" }
            throw HTTPError(kind, curlCode: Int32(result.rawValue), detail: detail)
        }
        var status = 0
        _ = pv_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, reason: collector.reason, headers: collector.headers, body: collector.body,
                            milliseconds: Double(totalMicros) / 1000)
    }

    /// Allows http and https only. CURLOPT_PROTOCOLS_STR is libcurl 7.85's; older ones (Ubuntu
    /// 22.04 has 7.81, RHEL 9 7.76) answer CURLE_UNKNOWN_OPTION, and take the bitmask
    /// CURLOPT_PROTOCOLS (deprecated since 7.85, so called only as the fallback).
    static func restrictToHTTP(_ handle: UnsafeMutableRawPointer) -> CURLcode {
        restrictToHTTP(setString: { pv_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, $0) },
                       setMask: { pv_curl_setopt_long(handle, PV_CURLOPT_PROTOCOLS_MASK, $0) })
    }

    /// The rule, with the two setters as seams (a test plays the older libcurl).
    public static func restrictToHTTP(setString: (String) -> CURLcode, setMask: (Int) -> CURLcode) -> CURLcode {
        let code = setString("http,https")
        guard code == CURLE_UNKNOWN_OPTION else { return code }
        // CURLPROTO_HTTP | CURLPROTO_HTTPS
        return setMask(1 << 0 | 1 << 1)
    }

    static func milliseconds(_ seconds: Double) -> Int {
        max(1, Int((seconds * 1000).rounded(.up)))
    }

    /// Maps libcurl's result to what a caller acts on. `connected` tells a
    /// timeout before the connection (the peer is unreachable) from one after
    /// it (the peer hangs). libcurl reports a reset during the TLS handshake
    /// as a TLS error; it is a lost connection, not a certificate problem.
    public static func classify(code: CURLcode, message: String, connected: Bool) -> HTTPError.Kind {
        switch code {
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION,
             CURLE_NOT_BUILT_IN:
            return .invalidRequest
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .resolveFailed
        case CURLE_COULDNT_CONNECT:
            return .connectFailed
        case CURLE_OPERATION_TIMEDOUT:
            return connected ? .timedOut : .connectFailed
        case CURLE_SSL_CONNECT_ERROR:
            let lower = message.lowercased()
            if lower.contains("reset by peer") || lower.contains("ssl_error_syscall") || lower.contains("unexpected eof") {
                return .connectionLost
            }
            return .tlsFailed
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_ENGINE_NOTFOUND,
             CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_CLIENTCERT:
            return .tlsFailed
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return .connectionLost
        default:
            return .other
        }
    }
}

/// Receives libcurl's callbacks for one exchange.
final class ResponseCollector {
    private(set) var body: [UInt8] = []
    private(set) var headers: [HTTPHeader] = []
    private(set) var reason = ""
    private(set) var overflowed = false
    let limit: Int

    init(limit: Int) { self.limit = limit }

    func appendBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard body.count + bytes.count <= limit else {
            overflowed = true
            return false
        }
        body.append(contentsOf: bytes)
        return true
    }

    /// libcurl hands over one header line at a time, status line included.
    /// A new status line (after `100 Continue`, or a proxy's answer) starts a
    /// new header block: only the last block belongs to the response.
    func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // Trim CR LF as bytes: in a Swift String "\r\n" is one Character.
        var end = bytes.count
        while end > 0, bytes[end - 1] == 10 || bytes[end - 1] == 13 { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            headers = []
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            reason = parts.count == 3 ? String(parts[2]) : ""
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        var value = line[line.index(after: colon)...]
        while value.first == " " || value.first == "\t" { value = value.dropFirst() }
        headers.append(HTTPHeader(name, String(value)))
    }
}
