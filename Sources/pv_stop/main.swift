import PVLifecycle

StopCommand.main()
