import PVInstall

InstallCommand.main()
