import PVCore
import PVState
import PVDocker
import PVHTTP

/// `docker engine` and `container <component>`.
public enum EngineChecks {
    /// Is the engine there? The answer names the engine's version and, when it
    /// is not there, why: no socket, no permission, or nobody answering.
    public static func engine(dockerHost: String, ping: Result<HTTPResponse, DockerEngineError>, files: any FileSystem,
                              configFile: String) -> CheckResult {
        switch ping {
        case .success(let response):
            var parts: [String] = []
            // `Docker/20.10.24+dfsg1 (linux)` -> `Docker 20.10.24+dfsg1`.
            if let server = response.header("Server") {
                parts.append(String(server.prefix { $0 != " " && $0 != "(" }).replacingSlash())
            }
            if let api = response.header("Api-Version") { parts.append("API \(api)") }
            let version = parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
            return CheckResult(name: "docker engine", status: .ok, detail: "answers at \(dockerHost)\(version)")
        case .failure(let error):
            let start = "start the Docker engine (systemctl start docker)"
            if case .invalidHost = error.problem {
                return CheckResult(name: "docker engine", status: .fail, detail: "docker_host '\(dockerHost)' is not usable",
                                   hint: "fix docker_host in \(configFile)")
            }
            if dockerHost.hasPrefix("unix://") {
                let socket = String(dockerHost.dropFirst("unix://".count))
                if !files.exists(socket) {
                    return CheckResult(name: "docker engine", status: .fail,
                                       detail: "not running: the socket \(socket) does not exist",
                                       hint: "\(start), or fix docker_host in \(configFile)")
                }
                if !files.isWritable(socket) {
                    return CheckResult(name: "docker engine", status: .fail,
                                       detail: "no permission to use the socket \(socket)",
                                       hint: "run as root or as a member of the docker group")
                }
            }
            return CheckResult(name: "docker engine", status: .fail, detail: "not reachable: \(describe(error))",
                               hint: "\(start); if it runs, read its log (journalctl -u docker)")
        }
    }

    /// One component's container: it must exist and run.
    public static func container(_ component: Component, named containerName: String,
                                 containers: Result<[DockerContainerSummary], DockerEngineError>,
                                 recorded: ComponentRecord?) -> CheckResult {
        let name = "container \(component.rawValue)"
        let starter = "start_pv_\(component.rawValue).sh"
        let why = component == .monitoring ? " (it holds the debug tools and the RabbitMQ connection)" : ""
        let list: [DockerContainerSummary]
        switch containers {
        case .failure(let error):
            let why: String
            if case .unreachable(let e) = error.problem { why = "the Docker engine does not answer (\(e.kind.rawValue))" } else { why = describe(error) }
            return CheckResult(name: name, status: .fail, detail: "unknown: \(why)", hint: "see the docker engine check")
        case .success(let value): list = value
        }
        guard let c = list.first(where: { $0.name == containerName }) else {
            var detail = "no container \(containerName)"
            if let last = recorded?.history.last { detail += "; last recorded event: \(last.event)" }
            return CheckResult(name: name, status: .fail, detail: detail + why,
                               hint: "start it: \(starter) (or pv_start \(component.rawValue))")
        }
        let version = c.labels[ContainerNaming.versionLabel] ?? ContainerNaming.tag(ofImage: c.image) ?? c.image
        let status = c.status.isEmpty ? c.state : c.status
        switch c.state {
        case "running":
            return CheckResult(name: name, status: .ok, detail: "\(containerName) running \(version) (\(status))")
        case "restarting":
            return CheckResult(name: name, status: .fail, detail: "\(containerName) \(version) keeps restarting (\(status))\(why)",
                               hint: "read its log (pv_diagnostics --archive, or docker logs \(containerName)), then \(starter) -v VERSION")
        default:
            return CheckResult(name: name, status: .fail, detail: "\(containerName) \(version) is \(c.state) (\(status))\(why)",
                               hint: "start it: \(starter); its last log lines are in the archive (pv_diagnostics --archive)")
        }
    }

    static func describe(_ error: DockerEngineError) -> String {
        switch error.problem {
        case .unreachable(let e): return e.detail
        case .status(let code, let body): return "answered \(code)\(body.isEmpty ? "" : ": \(body)")"
        case .malformedResponse(let why): return "malformed answer (\(why.prefix(120)))"
        case .invalidHost: return "docker_host is not usable"
        }
    }
}

extension String {
    func replacingSlash() -> String { String(map { $0 == "/" ? " " : $0 }) }
}
