import CCurl
import PVCore
import Testing
@testable import PVHTTP

/// Where TLS trust comes from on each distribution, and the protocol restriction on every libcurl.
@Suite struct TrustStoreTests {
    @Test func theFirstUsableSystemBundleIsChosen() {
        // A RHEL host: no Debian bundle, the extracted PEM is there.
        let rhel = TrustStore(isUsable: { $0 == "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem" || $0 == "/etc/pki/tls/certs/ca-bundle.crt" })
        #expect(rhel.caFile(configured: nil) == "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")
        let debian = TrustStore(isUsable: { _ in true })
        #expect(debian.caFile(configured: nil) == "/etc/ssl/certs/ca-certificates.crt")
    }

    @Test func theConfiguredFileWinsEvenWhenTheSystemHasOne() {
        let store = TrustStore(isUsable: { _ in true })
        #expect(store.caFile(configured: "/etc/provision/ca.pem") == "/etc/provision/ca.pem")
    }

    @Test func noBundleNamesEveryPathTried() {
        let store = TrustStore(isUsable: { _ in false })
        #expect(store.caFile(configured: nil) == nil)
        for path in TrustStore.systemBundles { #expect(store.notFoundMessage.contains(path)) }
    }

    @Test func anHTTPSRequestWithoutAnyCAFailsAsTLSBeforeConnecting() {
        let client = LiveHTTPTransport(trustStore: TrustStore(isUsable: { _ in false }))
        // Port 9 on loopback: were a connection attempted, the error would be connectFailed.
        #expect {
            try client.perform(HTTPRequest(method: "GET", url: "https://127.0.0.1:9/"))
        } throws: { error in
            guard let e = error as? HTTPError else { return false }
            return e.kind == .tlsFailed && e.detail.contains("/etc/pki/tls/certs/ca-bundle.crt") && e.detail.contains("management_ca_file")
        }
    }

    @Test func anEmptyOrMissingFileIsNotUsable() throws {
        #expect(!TrustStore.isReadableNonEmptyFile("/nonexistent/ca.pem"))
        #expect(!TrustStore.isReadableNonEmptyFile("/dev/null"))
        #expect(!TrustStore.isReadableNonEmptyFile("/tmp"))
    }
}

@Suite struct ProtocolRestrictionTests {
    @Test func libcurlFrom785TakesTheString() {
        var mask: Int?
        var strings: [String] = []
        let rc = LiveHTTPTransport.restrictToHTTP(setString: { strings.append($0); return CURLE_OK }, setMask: { mask = $0; return CURLE_OK })
        #expect(rc == CURLE_OK)
        #expect(strings == ["http,https"])
        #expect(mask == nil)
    }

    @Test func olderLibcurlFallsBackToTheBitmask() {
        // Ubuntu 22.04's 7.81 and RHEL 9's 7.76 do not know CURLOPT_PROTOCOLS_STR.
        var mask: Int?
        let rc = LiveHTTPTransport.restrictToHTTP(setString: { _ in CURLE_UNKNOWN_OPTION }, setMask: { mask = $0; return CURLE_OK })
        #expect(rc == CURLE_OK)
        #expect(mask == Int(CURLPROTO_HTTP) | Int(CURLPROTO_HTTPS))
    }

    @Test func anyOtherFailureIsReportedNotMasked() {
        var called = false
        let rc = LiveHTTPTransport.restrictToHTTP(setString: { _ in CURLE_BAD_FUNCTION_ARGUMENT }, setMask: { _ in called = true; return CURLE_OK })
        #expect(rc == CURLE_BAD_FUNCTION_ARGUMENT)
        #expect(!called)
    }

    @Test func theLinkedLibcurlAcceptsTheRestriction() throws {
        let handle = try #require(curl_easy_init())
        defer { curl_easy_cleanup(handle) }
        #expect(LiveHTTPTransport.restrictToHTTP(handle) == CURLE_OK)
    }
}
