import PVHeartbeat

HeartbeatCommand.main()
