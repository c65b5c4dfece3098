import Testing
@testable import PVCore

/// The progress popup's feed, one model for pv_install --json and pv_update --json.
@Suite struct ProgressFeedTests {
    @Test func aProgressLineCarriesItsStepComponentAndKind() {
        let line = ProgressFeed.progress(step: "update_dns", component: .dns, .verifying(.dns, Version("1.2.0")!)).json?.rendered
        #expect(line == #"{"event":"progress","step":"update_dns","component":"dns","kind":"verifying","message":"verifying dns 1.2.0"}"#)
    }

    @Test func whatThePopupDoesNotShowIsNotSent() {
        #expect(ProgressFeed.progress(step: "setup_dns", component: .dns, .pullOutput("abc: Pull complete")).json == nil)
        #expect(ProgressFeed.progress(step: "setup_dns", component: .dns, .note("$ docker run")).json == nil)
    }

    @Test func aFailedVerificationIsItsOwnKind() {
        let check = CheckResult(name: "dns", status: .fail, detail: "TXT is \"PVFAIL\"")
        #expect(ProgressEvent.verification(check).kind == "verification_failed")
        #expect(ProgressEvent.verification(CheckResult(name: "dns", status: .ok, detail: "PVOK")).kind == "verified")
    }

    @Test func theResultEndsTheFeed() {
        #expect(ProgressFeed.result(ok: false, exitStatus: 1, detail: "1 of 3 failed").json?.rendered
                == #"{"event":"result","ok":false,"exit_code":1,"detail":"1 of 3 failed"}"#)
        #expect(ProgressFeed.finished(step: "verify", component: nil, index: 12, total: 12, ok: true, seconds: 0.44, detail: "dns ok").json?.rendered
                == #"{"event":"ok","step":"verify","component":null,"index":12,"total":12,"seconds":0.4,"detail":"dns ok"}"#)
    }
}
