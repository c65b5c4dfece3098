extension DockerEngineError {
    /// Lets other targets report an engine problem they found themselves
    /// (pv_diagnostics asks a few Engine API paths through the transport directly).
    /// The memberwise initializer is internal and cannot be redeclared public.
    public static func engine(_ dockerHost: String, _ problem: Problem) -> DockerEngineError {
        DockerEngineError(dockerHost: dockerHost, problem: problem)
    }
}
