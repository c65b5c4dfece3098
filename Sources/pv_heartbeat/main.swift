import PVHeartbeatCLI

HeartbeatCommand.entry()
