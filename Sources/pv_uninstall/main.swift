import PVUninstallCLI

UninstallCommand.main()
