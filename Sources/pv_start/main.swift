import PVLifecycle

StartCommand.main()
