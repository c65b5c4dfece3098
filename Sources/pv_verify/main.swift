import PVVerifyCLI

VerifyCommand.runAsTool()
