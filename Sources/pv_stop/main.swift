import PVStopCLI

StopCommand.runAsTool()
