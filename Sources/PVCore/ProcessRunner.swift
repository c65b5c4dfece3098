import CProcessControl
#if canImport(Glibc)
import Glibc
#endif

/// A program invocation as a value: tests assert the argv without running
/// anything, and nothing ever goes through a shell.
public struct Command: Sendable, Equatable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]
    /// Variables added to (or replacing) the inherited environment.
    public var environment: [String: String]
    /// What a SIGTERM, SIGINT or SIGHUP to the tool does to this command (see `Interruption`).
    public var whenInterrupted: InterruptionPolicy

    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                whenInterrupted: InterruptionPolicy = .finish) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.whenInterrupted = whenInterrupted
    }

    public var argv: [String] { [executable] + arguments }
    public var description: String { argv.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ") }
}

public enum InterruptionPolicy: Sendable, Equatable {
    /// Runs to its end (within its bound): a `docker run` or `docker stop` cut half-way leaves
    /// a container in a state nobody chose.
    case finish
    /// Is ended at once (SIGTERM to its process group, SIGKILL 2 s later): a download, a log read.
    case cut
}

public struct ProcessOutput: Sendable, Equatable {
    /// Exit status, or 128 + signal number when the process was killed.
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var timedOut: Bool
    /// Ended because the tool was interrupted (a `.cut` command).
    public var interrupted: Bool

    public init(status: Int32, stdout: String = "", stderr: String = "", timedOut: Bool = false, interrupted: Bool = false) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
        self.timedOut = timedOut
        self.interrupted = interrupted
    }

    public var succeeded: Bool { status == 0 && !timedOut && !interrupted }
}

/// The seam through which every tool starts other programs.
public protocol ProcessRunner: Sendable {
    /// Runs to completion or until `timeout` seconds pass (then SIGTERM, and SIGKILL 2 s later).
    func run(_ command: Command, timeout: Double) throws(PVError) -> ProcessOutput
    /// Same, also handing each complete stdout line to `onLine` as it arrives (progress output).
    func run(_ command: Command, timeout: Double, onLine: @escaping (String) -> Void) throws(PVError) -> ProcessOutput
    /// Replaces the current process (for interactive sessions that need the real terminal).
    func exec(_ command: Command) throws(PVError) -> Never
}

extension ProcessRunner {
    public func run(_ command: Command, timeout: Double, onLine: @escaping (String) -> Void) throws(PVError) -> ProcessOutput {
        let out = try run(command, timeout: timeout)
        out.stdout.split(separator: "\n").forEach { onLine(String($0)) }
        return out
    }
}

/// The real runner: pipes, a poll loop and a hard deadline. Children never outlive the tool
/// unnoticed: each dies with it (PR_SET_PDEATHSIG), and in a tool that handles signals each
/// runs in its own process group, so that the terminal's Ctrl-C reaches only the tool, which
/// lets a `.finish` command end and cuts a `.cut` one.
public struct LiveProcessRunner: ProcessRunner {
    /// Output beyond this many bytes per stream is discarded (a runaway child must not exhaust memory).
    public var outputLimit: Int

    public init(outputLimit: Int = 4 << 20) { self.outputLimit = outputLimit }

    public func run(_ command: Command, timeout: Double) throws(PVError) -> ProcessOutput {
        try run(command, timeout: timeout, lines: nil)
    }

    public func run(_ command: Command, timeout: Double, onLine: @escaping (String) -> Void) throws(PVError) -> ProcessOutput {
        try run(command, timeout: timeout, lines: onLine)
    }

    func run(_ command: Command, timeout: Double, lines: ((String) -> Void)?) throws(PVError) -> ProcessOutput {
        var outPipe: [Int32] = [0, 0], errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            throw PVError(.osError, "cannot create a pipe to run \(command.executable)", cause: String(cString: strerror(errno)))
        }
        // Close-on-exec so that only the dup2'ed ends reach the child.
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let ownGroup = Interruption.isHandling
        let pid: pid_t
        do { pid = try spawn(command, stdout: outPipe[1], stderr: errPipe[1], ownGroup: ownGroup) } catch {
            for fd in outPipe + errPipe { close(fd) }
            throw error
        }
        close(outPipe[1]); close(errPipe[1])
        // The whole group: a child's own children go with it.
        let target = ownGroup ? -pid : pid
        defer { close(outPipe[0]); close(errPipe[0]) }

        var out: [UInt8] = [], err: [UInt8] = [], pending: [UInt8] = []
        var open = (out: true, err: true)
        let deadline = Deadline(secondsFromNow: timeout)
        var timedOut = false
        var interrupted = false
        var killAt: Deadline? = nil
        var status: Int32? = nil
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open.out || open.err || status == nil {
            if status == nil {
                var raw: Int32 = 0
                if waitpid(pid, &raw, WNOHANG) == pid { status = Self.decode(raw) }
            }
            if !timedOut && deadline.hasPassed && status == nil {
                timedOut = true
                kill(target, SIGTERM)
                killAt = Deadline(secondsFromNow: 2)
            }
            if !interrupted && !timedOut && status == nil && command.whenInterrupted == .cut && Interruption.signal != nil {
                interrupted = true
                kill(target, SIGTERM)
                killAt = Deadline(secondsFromNow: 2)
            }
            if let k = killAt, k.hasPassed, status == nil { kill(target, SIGKILL); killAt = nil }
            if !open.out && !open.err {
                if status == nil { usleep(2000) }
                continue
            }
            var fds: [pollfd] = []
            if open.out { fds.append(pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0)) }
            if open.err { fds.append(pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0)) }
            let wait = timedOut || interrupted ? 50 : max(1, min(deadline.remainingMilliseconds, 50))
            if poll(&fds, nfds_t(fds.count), Int32(wait)) <= 0 { continue }
            for f in fds where f.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(f.fd, $0.baseAddress, $0.count) }
                if n <= 0 {
                    if n < 0 && errno == EINTR { continue }
                    if f.fd == outPipe[0] { open.out = false } else { open.err = false }
                    continue
                }
                if f.fd == outPipe[0] {
                    if let lines {
                        pending += buffer[0..<n]
                        while let nl = pending.firstIndex(of: 10) {
                            lines(String(decoding: pending[..<nl], as: UTF8.self))
                            pending.removeSubrange(...nl)
                        }
                    }
                    if out.count < outputLimit { out += buffer[0..<min(n, outputLimit - out.count)] }
                } else if err.count < outputLimit {
                    err += buffer[0..<min(n, outputLimit - err.count)]
                }
            }
            // A child that exits but leaves a grandchild holding the pipes must not hang us.
            if status != nil && (timedOut || interrupted) { break }
        }
        return ProcessOutput(status: status ?? 137, stdout: String(decoding: out, as: UTF8.self),
                             stderr: String(decoding: err, as: UTF8.self), timedOut: timedOut, interrupted: interrupted)
    }

    public func exec(_ command: Command) throws(PVError) -> Never {
        for (k, v) in command.environment { setenv(k, v, 1) }
        var cargs = command.argv.map { strdup($0) } + [nil]
        execvp(command.executable, &cargs)
        throw PVError(.osError, "cannot run \(command.executable)", hint: "check that it is installed and on PATH",
                      cause: String(cString: strerror(errno)))
    }

    private func spawn(_ command: Command, stdout: Int32, stderr: Int32, ownGroup: Bool) throws(PVError) -> pid_t {
        var env = ProcessEnvironmentBlock.current
        for (k, v) in command.environment { env[k] = v }
        guard let path = Self.executablePath(command.executable, searchPath: env["PATH"] ?? "/usr/bin:/bin") else {
            throw PVError(.unavailable, "cannot run \(command.executable)", hint: "install \(command.executable) or put it on PATH",
                          cause: String(cString: strerror(ENOENT)))
        }
        let cenv = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        let cargs = command.argv.map { strdup($0) } + [nil]
        defer { cenv.forEach { free($0) }; cargs.forEach { free($0) } }
        var error: Int32 = 0
        let pid = pv_spawn(path, cargs, cenv, stdout, stderr, ownGroup ? 1 : 0, 1, &error)
        guard pid > 0 else {
            throw PVError(error == ENOENT ? .unavailable : .osError, "cannot run \(command.executable)",
                          hint: error == ENOENT ? "install \(command.executable) or put it on PATH" : nil,
                          cause: String(cString: strerror(error)))
        }
        return pid
    }

    /// What execvp would run: a name with a slash as it is, else the first executable regular
    /// file of that name in the search path (resolved before fork: nothing allocates after it).
    static func executablePath(_ name: String, searchPath: String) -> String? {
        if name.contains("/") { return name }
        for dir in searchPath.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            var st = stat()
            if stat(candidate, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    static func decode(_ raw: Int32) -> Int32 {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

/// The inherited environment, read from `environ`.
public enum ProcessEnvironmentBlock {
    public static var current: [String: String] {
        var result: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { result[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return result
    }
}
