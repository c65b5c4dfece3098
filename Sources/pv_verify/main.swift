import PVVerifyCLI

VerifyCommand.main()
