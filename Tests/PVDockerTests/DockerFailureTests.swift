import Testing
import PVCore
import PVDocker

@Suite struct DockerFailureTests {
    @Test func docker_sTextIsReadIntoOneValue() {
        #expect(DockerFailure(ProcessOutput(status: 0, stderr: "No such container: pv-dns")) == nil)
        #expect(DockerFailure(ProcessOutput(status: 1, stderr: "Error response from daemon: No such container: pv-dns\n")) == .noSuchContainer)
        #expect(DockerFailure(ProcessOutput(status: 1, stderr: "Error response from daemon: manifest for 127.0.0.1:5000/pv-dns:9.9.9 not found: manifest unknown\n"))
                == .imageNotInRegistry)
        #expect(DockerFailure(ProcessOutput(status: 1, stderr: "pulling\nunexpected EOF\n")) == .other("unexpected EOF"))
        #expect(DockerFailure(ProcessOutput(status: 137, stderr: "No such container", timedOut: true)) == .timedOut)
        #expect(DockerFailure(ProcessOutput(status: 143, interrupted: true)) == .interrupted)
    }
}
