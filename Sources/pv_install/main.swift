import PVInstallCLI

InstallCommand.main()
