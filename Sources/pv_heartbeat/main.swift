import PVHeartbeat

HeartbeatCommand.entry()
