import PVCore
import PVDocker
import PVState

extension UpdateJournal.Step {
    /// The steps of a DNS handoff (the old container never stops before the new one is verified).
    public var isHandoff: Bool {
        switch self {
        case .startingNext, .verifyingNext, .retiringOld, .removingNext: return true
        case .pulling, .swapping, .verifying, .rollingBack: return false
        }
    }
}

/// The DNS update without a gap (issue 16). The new version's container (`<name>-next`) starts
/// beside the running one on the same address and port; the old instance keeps the traffic while
/// both run (the image contract: SO_REUSEPORT on UDP and TCP, Knot's socket-affinity), and the new
/// one alone answers on its slot's check address, where it is made ready and verified. Only then
/// is the old container removed (`docker rm --force`: killed at once, the fewest queries in its
/// socket lost) and the new one renamed. A new version that fails never touched the old one: the
/// rollback is removing the new container. Each step is journaled before it acts, so a crash at
/// any point is finished (after the verification passed) or undone (before).
extension ComponentUpdate {
    /// The slot for a handoff when it applies: DNS, a DNS check for another address at hand, the
    /// running container's image and the new image both labelled for it. Nil: stop, then start.
    func handoffSlot(_ component: Component, old: ContainerInfo?, spec: ContainerSpec) throws(PVError) -> HandoffSlot? {
        guard component == .dns, verifyDNSAt != nil else { return nil }
        guard let old, old.isRunning, old.supportsHandoff else { return nil }
        guard try context.docker.imageLabel(spec.image, HandoffSlot.label) == HandoffSlot.supportedValue else { return nil }
        return HandoffSlot.after(old.slot)
    }

    func handOver(_ component: Component, from current: Version?, to: Version, slot: HandoffSlot,
                  journal: inout UpdateJournal) throws(PVError) -> Outcome {
        let next = context.spec(component, to, handoff: slot)
        let oldName = context.containerName(component)
        let check = "\(slot.checkAddress) port \(context.config.dnsVerifyPort)"

        // 1. The new container beside the old one.
        try write(&journal, .startingNext)
        context.progress(.note("starting \(next.name) beside \(oldName), which keeps serving (checked alone on \(check))"))
        let started = startNext(next, slot: slot)

        // 2. Verified where only it answers.
        try write(&journal, .verifyingNext)
        var result: CheckResult
        switch started {
        case .failure(let error): result = CheckResult(name: component.rawValue, status: .fail, detail: error.message)
        case .success:
            context.progress(.verifying(component, to))
            result = verifyDNSAt!(slot.checkAddress)
        }
        context.progress(.verification(result))

        if result.passed {
            // 3. The old one goes; the new one takes the component's name.
            try write(&journal, .retiringOld)
            context.progress(.stopping(container: oldName, version: current?.description))
            try retire(oldName, for: next.name)
            return try kept(component, from: current, to: to, how: " (handed over without a gap)")
        }

        // 4. Failed: only the new container goes; the old one never stopped.
        try write(&journal, .removingNext)
        if let from = current { context.progress(.rollingBack(component, to: from)) }
        try removeContainer(next.name)
        try recordFailed(component, to, result)
        UpdateJournal.remove(root: root, component: component)
        throw PVError(.checkFailed, "\(component.rawValue) \(to) failed verification: \(result.detail)",
                      hint: "\(current.map { "\($0) never stopped and still serves" } ?? "the old version still serves"); \(to) is skipped by automatic updates from now on (pv_update --force retries it)")
    }

    /// Starts the new container (a leftover of an earlier attempt removed first) and waits until it
    /// answers on its check address.
    func startNext(_ next: ContainerSpec, slot: HandoffSlot) -> Result<Void, PVError> {
        do throws(PVError) {
            try removeContainer(next.name)
            try start.makeMounts(next)
            context.progress(.starting(container: next.name, image: next.image))
            var checkContext = context
            checkContext.config.dnsVerifyServer = slot.checkAddress
            let starting = ComponentStart(context: checkContext, readyTimeout: readyTimeout, pullTimeout: pullTimeout)
            let began = context.environment.clock.monotonic()
            let run = try context.docker.run(next.runArguments, timeout: 60)
            try context.docker.requireReached(run)
            guard run.succeeded else {
                throw PVError(.osError, "docker run of \(next.image) failed", cause: run.timedOut ? "timed out after 60 s" : DockerFailure.lastMeaningfulLine(run.stderr))
            }
            _ = try starting.waitUntilReady(.dns, spec: next, since: began)
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// `docker rm --force` of the old container, then the new one renamed to the component's name.
    func retire(_ oldName: String, for nextName: String) throws(PVError) {
        try removeContainer(oldName)
        let renamed = try context.docker.run(["rename", nextName, oldName], timeout: 30)
        if let failure = DockerFailure(renamed) {
            throw PVError(.unavailable, "docker rename \(nextName) \(oldName) failed", cause: failure.text)
        }
    }

    /// `docker rm --force NAME`; a missing container is fine.
    func removeContainer(_ name: String) throws(PVError) {
        let rm = try context.docker.run(["rm", "--force", name], timeout: 30)
        try context.docker.requireReached(rm)
        if let failure = DockerFailure(rm), failure != .noSuchContainer {
            throw PVError(.unavailable, "docker rm \(name) failed", cause: failure.text)
        }
    }

    /// A handoff a crash interrupted. Once the new version had passed (`retiring-old`) it is
    /// finished; before, it is undone: the new container goes, and the old one, which the handoff
    /// never stops, serves (started again only if it is not running).
    func recoverHandoff(_ component: Component, journal: UpdateJournal) throws(PVError) -> String {
        let name = context.containerName(component)
        let nextName = ContainerNaming.nextName(component, context.config)
        let found = try context.docker.inspect([name, nextName])
        let old = found.first { $0.name == name }
        let next = found.first { $0.name == nextName }
        let to = journal.to.description
        if journal.step == .retiringOld,
           let finished = next ?? old, finished.isRunning, finished.version == to {
            if next != nil { try retire(name, for: nextName) }
            try finishedAfterInterruption(component, journal.to, how: " (handed over)")
            return "finished the interrupted update of \(component.rawValue) to \(to) (it had passed verification)"
        }
        try removeContainer(nextName)
        var text: String
        if let old, old.isRunning, let from = journal.from, old.version == from.description {
            text = "undid the interrupted update of \(component.rawValue) to \(to): \(from) still runs"
        } else {
            text = "undid the interrupted update of \(component.rawValue) to \(to): " + (try rollBack(component, to: journal.from, failing: journal.to))
        }
        if journal.step == .removingNext {
            try context.state.update { if !$0[component].failed.contains(journal.to) { $0[component].failed.append(journal.to) } }
        }
        try recordWhatRuns(component)
        UpdateJournal.remove(root: root, component: component)
        return text
    }
}
