import PVUpdateCLI

UpdateCommand.runAsTool()
