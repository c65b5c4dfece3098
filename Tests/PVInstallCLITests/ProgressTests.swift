import Testing
@testable import PVInstallCLI

@Suite struct LayerProgressTests {
    @Test func barFollowsDockerPullLines() {
        var p = LayerProgress()
        let lines = [
            "1.2.0: Pulling from pv-dns",
            "0327e0c484ec: Pulling fs layer",
            "a1b2c3d4e5f6: Pulling fs layer",
            "0327e0c484ec: Download complete",
            "0327e0c484ec: Pull complete",
            "a1b2c3d4e5f6: Pull complete",
            "a1b2c3d4e5f6: Pull complete",
            "Digest: sha256:fcdceb5d462f45f3c2c31ad4ddc0722054bb2012956c9d92be95c92517ccd3fb",
        ]
        let bars = lines.compactMap { p.update($0) }
        #expect(bars == ["[##########----------] 1/2 layers", "[####################] 2/2 layers"])
    }

    @Test func layersAlreadyOnDiskCountButDrawNothing() {
        var p = LayerProgress()
        #expect(p.update("0327e0c484ec: Already exists") == nil)
        #expect(p.update("a1b2c3d4e5f6: Pulling fs layer") == nil)
        #expect(p.update("a1b2c3d4e5f6: Pull complete") == "[####################] 2/2 layers")
    }

    @Test func emptyAndFullBars() {
        #expect(LayerProgress.bar(done: 0, total: 0) == "[--------------------] 0/0 layers")
        #expect(LayerProgress.bar(done: 3, total: 3, width: 4) == "[####] 3/3 layers")
    }
}

/// The root-owned verifier hands a checked bundle to that bundle's own pv_install: the same command
/// line, with the extracted bundle in place of the archive.
@Suite struct HandOverArgumentsTests {
    @Test func theArchiveBecomesTheCheckedBundle() {
        #expect(InstallCommand.handOverArguments(["--from-archive", "/home/a/setup-1.tar", "-e", "verify", "--json"], bundle: "/var/lib/provision/bundle")
                == ["-e", "verify", "--json", "--bundle", "/var/lib/provision/bundle"])
        #expect(InstallCommand.handOverArguments(["--bundle=/home/a", "--root", "/r"], bundle: "/home/a")
                == ["--root", "/r", "--bundle", "/home/a"])
    }
}
