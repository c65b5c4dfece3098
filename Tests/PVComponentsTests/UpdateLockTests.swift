import Testing
import PVCore
import PVTestSupport
@testable import PVState
#if canImport(Glibc)
import Glibc
#endif

/// The update lock's message names its holder from the locked file itself: root, finding the lock
/// held, never opens the path again, where the agent's user may have put a link meanwhile.
@Suite struct UpdateLockTests {
    @Test func aLinkPlantedAtTheLockWhileItIsHeldIsNeverRead() throws {
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let root = InstallRoot(path: scratch + "/root")
        // What the agent's user must never see: the first line of a file only root may read.
        let secret = scratch + "/root-only"
        try FileIO.writeAtomically(secret, Array("ROOT-ONLY-FIRST-LINE\n".utf8), mode: 0o600)
        let first = try UpdateLock(root: root, purpose: "pv_update all")
        let path = UpdateLock.path(root: root)
        do {
            // Between root's finding the lock held and its naming the holder, the user swaps the
            // lock file (still held through its descriptor) for a link to that file.
            _ = try UpdateLock(root: root, purpose: "pv_start dns", whenBusy: {
                #expect(rename(path, path + ".moved") == 0)
                #expect(symlink(secret, path) == 0)
            })
            Issue.record("two locks at once")
        } catch {
            #expect(error.code == .tempFail)
            #expect(!error.description.contains("ROOT-ONLY"), "\(error)")
            #expect(error.message == "another run is changing the components (pid \(getpid()): pv_update all)")
        }
        withExtendedLifetime(first) {}
    }

    /// What the holder wrote is shown bounded and inert: its first line, cut, controls as '?'.
    @Test func theHoldersLineIsBoundedAndInert() throws {
        let scratch = scratchDirectory()
        defer { removeTree(scratch) }
        let root = InstallRoot(path: scratch)
        guard case .acquired(let held) = FileLock.acquire(UpdateLock.path(root: root)) else {
            Issue.record("the lock was not acquired")
            return
        }
        held.write("pid 1: \u{1B}]0;owned\u{07}" + String(repeating: "x", count: 10_000) + "\nsecond line\n")
        do {
            _ = try UpdateLock(root: root, purpose: "pv_stop dns")
            Issue.record("two locks at once")
        } catch {
            #expect(error.message.hasPrefix("another run is changing the components (pid 1: ?]0;owned?xxx"), "\(error.message)")
            #expect(error.message.count < 200, "\(error.message.count) characters")
            #expect(!error.message.contains("second line"))
        }
        withExtendedLifetime(held) {}
    }
}
