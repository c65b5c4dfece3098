import Testing
@testable import PVInstall

/// Root copies the registry's CA from a path the agent's configuration names: only certificate
/// blocks are ever written, so a path to a secret discloses nothing.
@Suite struct RegistryTrustTests {
    @Test func onlyTheCertificateBlocksAreKept() {
        let pem = """
            -----BEGIN PRIVATE KEY-----
            MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg
            -----END PRIVATE KEY-----
            -----BEGIN CERTIFICATE-----
            MIIBfzCCASWgAwIBAgIUb3Jh
            bmdl
            -----END CERTIFICATE-----
            root:$6$secret:19000:0:99999:7:::
            """
        #expect(RegistryTrust.certificates(pem) == ["-----BEGIN CERTIFICATE-----\nMIIBfzCCASWgAwIBAgIUb3Jh\nbmdl\n-----END CERTIFICATE-----\n"])
    }

    @Test func aShadowFileHoldsNoCertificate() {
        #expect(RegistryTrust.certificates("root:$6$abc:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n").isEmpty)
    }

    @Test func aBlockWithForeignLinesIsDropped() {
        let pem = "-----BEGIN CERTIFICATE-----\nroot:$6$secret:1\n-----END CERTIFICATE-----\n"
        #expect(RegistryTrust.certificates(pem).isEmpty)
    }
}
