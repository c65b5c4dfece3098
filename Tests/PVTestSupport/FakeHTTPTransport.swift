import Foundation
import PVCore

/// A transport that answers from a script and records every request.
public final class FakeHTTPTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [Result<HTTPResponse, HTTPError>]
    public private(set) var requests: [HTTPRequest] = []

    public init(_ answers: [Result<HTTPResponse, HTTPError>]) { self.answers = answers }

    public func perform(_ request: HTTPRequest) throws(HTTPError) -> HTTPResponse {
        let answer: Result<HTTPResponse, HTTPError> = lock.withLock {
            requests.append(request)
            return answers.isEmpty ? .failure(HTTPError(.other, detail: "unscripted request \(request.url)")) : answers.removeFirst()
        }
        return try answer.get()
    }
}
