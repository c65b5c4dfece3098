import PVStart

StartCommand.main()
