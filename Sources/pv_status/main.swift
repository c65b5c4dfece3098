import PVStatusCLI

StatusCommand.runAsTool()
