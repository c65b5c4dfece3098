import PVStatusCLI

StatusCommand.main()
