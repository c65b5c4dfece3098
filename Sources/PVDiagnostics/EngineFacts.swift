#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import PVCore
import PVHTTP
#if canImport(Glibc)
import Glibc
#endif

/// The fields of `GET /info` diagnostics read.
public struct EngineInfo: Sendable, Equatable, Decodable {
    public var dockerRootDir: String
    public var serverVersion: String
    /// RFC 3339 with nanoseconds: `2026-11-26T02:20:47.764470653Z`.
    public var systemTime: String?

    enum CodingKeys: String, CodingKey {
        case dockerRootDir = "DockerRootDir", serverVersion = "ServerVersion", systemTime = "SystemTime"
    }

    public init(dockerRootDir: String, serverVersion: String, systemTime: String?) {
        self.dockerRootDir = dockerRootDir
        self.serverVersion = serverVersion
        self.systemTime = systemTime
    }
}

/// What the engine said to `/info`, with our own clock read when the answer arrived.
public struct EngineInfoSample: Sendable, Equatable {
    public var info: EngineInfo
    /// Local wall clock (seconds since the epoch) at the middle of the exchange.
    public var localTime: Double
    /// Round trip of the exchange: the engine's time is uncertain by about half of it.
    public var roundTripMilliseconds: Double
}

/// The Docker Engine API questions the checks share. Each is asked at most
/// once per run, by whichever check needs it first; the others wait for that
/// answer (within their own time limit) instead of asking again.
public final class EngineFacts: @unchecked Sendable {
    public let engine: DockerEngine?
    /// Why there is no engine client (docker_host invalid); nil when there is one.
    public let engineProblem: String?
    let wallClock: @Sendable () -> Double

    private var lock = pthread_mutex_t()
    private var containersMemo: Result<[DockerContainerSummary], DockerEngineError>?
    private var infoMemo: Result<EngineInfoSample, DockerEngineError>?

    public init(dockerHost: String, transport: any HTTPTransport, connectTimeout: Double = 1, totalTimeout: Double = 2,
                wallClock: @escaping @Sendable () -> Double) {
        do {
            engine = try DockerEngine(dockerHost: dockerHost, transport: transport, connectTimeout: connectTimeout,
                                      totalTimeout: totalTimeout)
            engineProblem = nil
        } catch {
            engine = nil
            engineProblem = error.description
        }
        self.wallClock = wallClock
        pthread_mutex_init(&lock, nil)
    }

    /// `GET /_ping` (never memoised: it is the engine check itself).
    public func ping() -> Result<HTTPResponse, DockerEngineError> {
        guard let engine else { return .failure(DockerEngineError.engine("?", .invalidHost)) }
        do {
            let response = try engine.transport.perform(engine.request("/_ping"))
            guard response.status == 200 else {
                return .failure(DockerEngineError.engine(engine.dockerHost, .status(response.status, String(response.bodyText.prefix(200)))))
            }
            return .success(response)
        } catch {
            return .failure(DockerEngineError.engine(engine.dockerHost, .unreachable(error)))
        }
    }

    public func containers() -> Result<[DockerContainerSummary], DockerEngineError> {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let containersMemo { return containersMemo }
        let result: Result<[DockerContainerSummary], DockerEngineError>
        if let engine {
            do { result = .success(try engine.containers(all: true)) } catch { result = .failure(error) }
        } else {
            result = .failure(DockerEngineError.engine("?", .invalidHost))
        }
        containersMemo = result
        return result
    }

    public func info() -> Result<EngineInfoSample, DockerEngineError> {
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let infoMemo { return infoMemo }
        let result: Result<EngineInfoSample, DockerEngineError>
        if let engine {
            let before = wallClock()
            do {
                let response = try engine.transport.perform(engine.request("/info"))
                let after = wallClock()
                if (200..<300).contains(response.status) {
                    do {
                        let info = try JSONDecoder().decode(EngineInfo.self, from: Data(response.body))
                        result = .success(EngineInfoSample(info: info, localTime: (before + after) / 2,
                                                           roundTripMilliseconds: (after - before) * 1000))
                    } catch {
                        result = .failure(DockerEngineError.engine(engine.dockerHost, .malformedResponse("\(error)")))
                    }
                } else {
                    result = .failure(DockerEngineError.engine(engine.dockerHost, .status(response.status, String(response.bodyText.prefix(200)))))
                }
            } catch {
                result = .failure(DockerEngineError.engine(engine.dockerHost, .unreachable(error)))
            }
        } else {
            result = .failure(DockerEngineError.engine("?", .invalidHost))
        }
        infoMemo = result
        return result
    }

    /// `GET /containers/{name}/logs`: the last `lines` lines of stdout and stderr, with timestamps.
    public func logs(container: String, lines: Int) -> Result<String, DockerEngineError> {
        guard let engine else { return .failure(DockerEngineError.engine("?", .invalidHost)) }
        do {
            let response = try engine.transport.perform(engine.request(Self.logsPath(container: container, lines: lines)))
            guard response.status == 200 else {
                return .failure(DockerEngineError.engine(engine.dockerHost, .status(response.status, String(response.bodyText.prefix(200)))))
            }
            return .success(DockerLogStream.text(response.body, contentType: response.header("Content-Type")))
        } catch {
            return .failure(DockerEngineError.engine(engine.dockerHost, .unreachable(error)))
        }
    }

    public static func logsPath(container: String, lines: Int) -> String {
        "/containers/\(container)/logs?stdout=1&stderr=1&timestamps=1&tail=\(max(1, lines))"
    }
}
