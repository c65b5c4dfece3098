import PVLifecycle

StatusCommand.main()
