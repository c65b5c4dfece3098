import PVStopCLI

StopCommand.main()
