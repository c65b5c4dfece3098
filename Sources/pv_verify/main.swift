import PVVerify

VerifyCommand.main()
