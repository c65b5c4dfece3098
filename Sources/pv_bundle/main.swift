import PVBundleCLI

BundleCommand.runAsTool()
