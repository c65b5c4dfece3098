import PVUpdateCLI

UpdateCommand.main()
