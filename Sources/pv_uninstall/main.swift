import PVUninstallCLI

UninstallCommand.runAsTool()
