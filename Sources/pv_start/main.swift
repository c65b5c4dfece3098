import PVStartCLI

StartCommand.main()
