import PVUpdate

UpdateCommand.main()
