import PVStartCLI

StartCommand.runAsTool()
