import PVBundleCLI

BundleCommand.main()
