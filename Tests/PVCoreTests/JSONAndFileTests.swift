import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import PVCore

@Suite struct JSONValueTests {
    @Test func escapesAndOrder() {
        let v = JSONValue.object([("b", .string("q\"\\\n\u{1}")), ("a", .array([.int(1), .bool(false), .null, .number(1.5)]))])
        #expect(v.rendered == #"{"b":"q\"\\\n\u0001","a":[1,false,null,1.5]}"#)
    }
}

@Suite struct FileIOTests {
    @Test func atomicWriteReplacesAndLeavesNoTemp() throws {
        var template = Array("/tmp/pvtest.XXXXXX".utf8CString)
        let dir = String(cString: mkdtemp(&template)!)
        defer { _ = system("rm -rf \(dir)") }
        let path = dir + "/state.json"
        try FileIO.writeAtomically(path, "one", mode: 0o600)
        try FileIO.writeAtomically(path, "two", mode: 0o600)
        #expect(try FileIO.readText(path, limit: 100) == "two")
        #expect(FileIO.modeAndOwner(path)?.mode == 0o600)
        var count = 0
        let d = opendir(dir)!
        while let e = readdir(d) { if e.pointee.d_name.0 != 46 { count += 1 } }
        closedir(d)
        #expect(count == 1)
        #expect(throws: FileIOError.self) { try FileIO.readText(path, limit: 2) }
    }
}

@Suite struct AbandonedTemporaryTests {
    /// A writer killed between create and rename leaves `<file>.tmp.<pid>`; the next write removes
    /// it once that pid is gone, and leaves a live writer's alone.
    @Test func theNextWriteRemovesADeadWritersTemporaryOnly() throws {
        var template = Array("/tmp/pvtmp.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }
        let dir = try #require(made)
        defer { for n in FileIO.listDirectory(dir) ?? [] { unlink(dir + "/" + n) }; rmdir(dir) }
        let file = dir + "/components.json"
        // Above the kernel's largest pid (4194304): no such process can exist.
        let dead = dir + "/components.json.tmp.4194305"
        let live = dir + "/components.json.tmp.\(getppid())"
        try FileIO.writeAtomically(dead, "half", mode: 0o600)
        try FileIO.writeAtomically(live, "in progress", mode: 0o600)
        try FileIO.writeAtomically(file, "{}", mode: 0o600)
        #expect(!FileIO.exists(dead))
        #expect(FileIO.exists(live))
        #expect(try FileIO.readText(file, limit: 16) == "{}")
    }
}
