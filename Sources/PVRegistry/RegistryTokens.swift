import Synchronization

/// Bearer tokens from one registry's token service by scope (`repository:pv-dns:pull`), kept for
/// their lifetime (`expires_in`, less a margin) so that one run asks the token service once per scope.
public final class RegistryTokens: Sendable {
    private let tokens = Mutex<[String: (token: String, until: Double)]>([:])
    let now: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Double) { self.now = now }

    func valid(_ key: String) -> String? {
        let t = now()
        return tokens.withLock { stored in
            guard let entry = stored[key], entry.until > t else { stored[key] = nil; return nil }
            return entry.token
        }
    }

    func store(_ token: String, key: String, lifetime: Double) {
        // A tenth of the lifetime (at most 30 s) early: a token is never sent in its last seconds.
        let until = now() + max(1, lifetime - min(30, lifetime / 10))
        tokens.withLock { $0[key] = (token, until) }
    }

    /// A token the registry refused (revoked, or expired early) is asked for again.
    func forget(_ key: String) { tokens.withLock { $0[key] = nil } }
}
