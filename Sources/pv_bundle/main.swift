import PVBundle

BundleCommand.main()
