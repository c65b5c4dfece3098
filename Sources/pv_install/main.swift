import PVInstallCLI

InstallCommand.runAsTool()
