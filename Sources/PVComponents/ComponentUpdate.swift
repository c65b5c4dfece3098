import PVCore
import PVDocker
import PVState
#if canImport(Glibc)
import Glibc
#endif

/// Updating one component, in the order that keeps the service up longest:
/// download while the old version serves, then swap, verify, and either
/// keep the new version or restore the verified one.
///
/// Every step that changes what runs is written to the update journal first,
/// so a crash at any point is finished or undone by `recover`.
public struct ComponentUpdate: Sendable {
    public var context: ComponentContext
    public var registry: any RegistryCatalog
    /// Runs the component's verification checks (pv_verify's, or "still running" for monitoring).
    public var verify: @Sendable (Component) -> CheckResult
    /// The DNS check against another address of the server (the handoff's check address), with
    /// the configured port. Without it DNS is updated by stopping the old version first.
    public var verifyDNSAt: (@Sendable (_ address: String) -> CheckResult)? = nil
    /// Fault injection for the crash tests: called right after each journal write.
    public var afterJournalWrite: @Sendable (UpdateJournal.Step) -> Void
    public var readyTimeout: Double
    public var pullTimeout: Double

    public init(context: ComponentContext, registry: any RegistryCatalog, verify: @escaping @Sendable (Component) -> CheckResult,
                afterJournalWrite: @escaping @Sendable (UpdateJournal.Step) -> Void = { _ in },
                readyTimeout: Double = 20, pullTimeout: Double = 900) {
        self.context = context
        self.registry = registry
        self.verify = verify
        self.afterJournalWrite = afterJournalWrite
        self.readyTimeout = readyTimeout
        self.pullTimeout = pullTimeout
    }

    public struct Options: Sendable {
        public var requested: Version?
        public var checkOnly = false
        public var force = false
        public var prereleases = false
        public init(requested: Version? = nil, checkOnly: Bool = false, force: Bool = false, prereleases: Bool = false) {
            self.requested = requested
            self.checkOnly = checkOnly
            self.force = force
            self.prereleases = prereleases
        }
    }

    public enum Outcome: Equatable, Sendable {
        case upToDate(Version?)
        case wouldUpdate(from: Version?, to: Version, digest: String)
        case updated(from: Version?, to: Version)
    }

    var root: InstallRoot { context.root }
    var start: ComponentStart { ComponentStart(context: context, readyTimeout: readyTimeout, pullTimeout: pullTimeout) }

    /// What runs now: the container's version label, else the state's; and the running container
    /// itself (asked once: the handoff and the prepared swap decide from the same answer).
    func currentVersion(_ component: Component) throws(PVError) -> (Version?, running: Bool, container: ContainerInfo?) {
        if let c = try context.container(component), c.isRunning, let v = c.version.flatMap(Version.init) { return (v, true, c) }
        return (try context.state.load()[component].running, false, nil)
    }

    /// The version to move to, or nil when there is nothing newer.
    func target(_ component: Component, current: Version?, options: Options) throws(PVError) -> Version? {
        let image = context.config.image(for: component)
        let tags = try registry.tags(for: component)
        if let requested = options.requested {
            guard tags.contains(requested.description) else {
                let have = VersionSelection.versions(in: tags, includePrereleases: true).map(\.description)
                throw PVError(.notFound, "version \(requested) of \(component.rawValue) is not in the registry \(context.config.registry)",
                              hint: have.isEmpty ? "the registry has no versions of \(image)" : "versions in the registry: \(have.joined(separator: ", "))")
            }
            return requested == current ? nil : requested
        }
        let failed = options.force ? [] : try context.state.load()[component].failed
        guard let newest = VersionSelection.newest(in: tags, includePrereleases: options.prereleases, skipping: failed) else { return nil }
        if let current, newest <= current { return nil }
        return newest
    }

    public func update(_ component: Component, options: Options) throws(PVError) -> Outcome {
        let (current, running, container) = try currentVersion(component)
        guard let to = try target(component, current: current, options: options) else {
            // Left untouched, but the state file says what runs (a stop reads the version there).
            if running, let current, try context.state.load()[component].running != current {
                try context.state.update { $0[component].running = current }
            }
            return .upToDate(current)
        }
        if options.checkOnly {
            return .wouldUpdate(from: current, to: to, digest: try registry.digest(for: component, tag: to.description))
        }
        let state = try context.state.load()[component]
        // Roll back to what verifiably worked: the verified version, else what ran.
        let rollbackTarget = state.verified ?? (running ? current : nil)
        var journal = UpdateJournal(component: component, from: rollbackTarget, to: to, step: .pulling)
        try write(&journal, .pulling)

        // 1. Download while the old version keeps serving.
        let spec = context.spec(component, to)
        do { try pull(spec) } catch {
            UpdateJournal.remove(root: root, component: component)
            throw error
        }

        // 2. DNS, when the old container and the new image both take part: no window at all.
        if let handoff = try handoffSlot(component, old: container, spec: spec) {
            return try handOver(component, from: current, to: to, slot: handoff, journal: &journal)
        }

        // 2. Swap: the only window without service, prepared before it (the new container created).
        let prepared = try prepareSwap(spec, replacing: container)
        try write(&journal, .swapping)
        let swapError: PVError?
        do {
            if prepared { try swap(component, from: current, to: spec) } else { _ = try start.start(component, version: to) }
            swapError = nil
        } catch { swapError = error }
        if let swapError, swapError.isInterruption {
            // A signal before the old container was touched (ComponentStart's checkpoint): nothing
            // has changed. After that point the component in hand is finished (verified, kept or
            // rolled back) before the tool stops.
            UpdateJournal.remove(root: root, component: component)
            throw swapError
        }

        // 3. Verify within the deadline.
        try write(&journal, .verifying)
        if swapError == nil { context.progress(.verifying(component, to)) }
        let check = swapError == nil ? verify(component) :
            CheckResult(name: component.rawValue, status: .fail, detail: swapError!.message)
        context.progress(.verification(check))
        if check.passed { return try kept(component, from: current, to: to) }

        // 4. Roll back to the verified version.
        try write(&journal, .rollingBack)
        try recordFailed(component, to, check)
        let restored = try rollBack(component, to: rollbackTarget, failing: to)
        UpdateJournal.remove(root: root, component: component)
        throw PVError(.checkFailed, "\(component.rawValue) \(to) failed verification: \(check.detail)",
                      hint: "\(restored); \(to) is skipped by automatic updates from now on (pv_update --force retries it)")
    }

    /// The new version passed: recorded as verified and running, the journal gone.
    func kept(_ component: Component, from current: Version?, to: Version, how: String = "") throws(PVError) -> Outcome {
        try context.state.update {
            $0[component].verified = to
            $0[component].running = to
            $0[component].failed.removeAll { $0 == to }
            $0[component].record("updated from \(current?.description ?? "nothing")\(how)", version: to, at: context.now)
        }
        UpdateJournal.remove(root: root, component: component)
        return .updated(from: current, to: to)
    }

    /// An interrupted update finished by recovery: the new version recorded as verified and running.
    func finishedAfterInterruption(_ component: Component, _ version: Version, how: String = "") throws(PVError) {
        try context.state.update {
            $0[component].verified = version
            $0[component].running = version
            $0[component].record("update finished after an interruption\(how)", version: version, at: context.now)
        }
        UpdateJournal.remove(root: root, component: component)
    }

    /// The new version failed its check: remembered, so that automatic updates skip it.
    func recordFailed(_ component: Component, _ version: Version, _ check: CheckResult) throws(PVError) {
        try context.state.update {
            if !$0[component].failed.contains(version) { $0[component].failed.append(version) }
            $0[component].record("failed verification: \(check.detail)", version: version, at: context.now)
        }
    }

    /// Restores `version` and verifies it. Returns a sentence saying what runs now.
    func rollBack(_ component: Component, to version: Version?, failing: Version) throws(PVError) -> String {
        guard let version else {
            _ = try? ComponentStop(context: context).stop(component)
            return "no verified version was recorded, so \(component.rawValue) is stopped"
        }
        context.progress(.rollingBack(component, to: version))
        do {
            // A rollback is a safe point's own work: its download is never cut.
            try start.ensureImage(context.spec(component, version), whenInterrupted: .finish)
            _ = try start.start(component, version: version, interruptible: false)
        } catch {
            try? recordWhatRuns(component)
            throw PVError(.unavailable, "\(component.rawValue) \(failing) failed verification and the rollback to \(version) failed: \(error.message)",
                          hint: "start a working version by hand: start_pv_\(component.rawValue).sh -v VERSION", cause: error.cause)
        }
        let check = verify(component)
        try context.state.update {
            $0[component].record("rolled back", version: version, at: context.now)
            if check.passed { $0[component].verified = version }
        }
        return check.passed ? "rolled back: \(version) runs and passes verification"
            : "rolled back to \(version), but it does not pass verification either (\(check.detail))"
    }

    func pull(_ spec: ContainerSpec) throws(PVError) {
        try ImagePull(context: context, timeout: pullTimeout).ensure(spec, whenInterrupted: .cut, whileServing: true)
    }

    func write(_ journal: inout UpdateJournal, _ step: UpdateJournal.Step) throws(PVError) {
        journal.step = step
        try journal.save(root: root)
        afterJournalWrite(step)
    }

    /// Finishes or undoes an update that a crash interrupted, so the component
    /// runs at a verified version. Returns a description, or nil when there was nothing to do.
    public func recover(_ component: Component) throws(PVError) -> String? {
        guard let journal = try UpdateJournal.load(root: root, component: component) else { return nil }
        if journal.step.isHandoff { return try recoverHandoff(component, journal: journal) }
        // A prepared swap's new container, created but never renamed, goes.
        try removeContainer(ContainerNaming.nextName(component, context.config))
        let running = try context.container(component)
        let runsNew = running?.isRunning == true && running?.version == journal.to.description
        if journal.step != .pulling && journal.step != .rollingBack && runsNew && verify(component).passed {
            // The crash came after the swap and the new version works: finish.
            try finishedAfterInterruption(component, journal.to)
            return "finished the interrupted update of \(component.rawValue) to \(journal.to) (it runs and passes verification)"
        }
        // Otherwise undo: make the verified version run.
        let runsOld = running?.isRunning == true && journal.from.map { running?.version == $0.description } == true
        var text: String
        if runsOld {
            text = "undid the interrupted update of \(component.rawValue) to \(journal.to): \(journal.from!) still runs"
        } else {
            text = try rollBack(component, to: journal.from, failing: journal.to)
            text = "undid the interrupted update of \(component.rawValue) to \(journal.to): " + text
        }
        if journal.step == .verifying || journal.step == .rollingBack, runsNew {
            // It ran and did not pass: that is a failed verification.
            try context.state.update { if !$0[component].failed.contains(journal.to) { $0[component].failed.append(journal.to) } }
        }
        // Whichever branch ran, the state file ends saying what Docker runs.
        try recordWhatRuns(component)
        UpdateJournal.remove(root: root, component: component)
        return text
    }

    /// Writes Docker's answer (the version running, or none) into the state file's `running`.
    func recordWhatRuns(_ component: Component) throws(PVError) {
        let container = try context.container(component)
        let runs = container.flatMap { $0.isRunning ? $0.version.flatMap(Version.init) : nil }
        try context.state.update { $0[component].running = runs }
    }
}
