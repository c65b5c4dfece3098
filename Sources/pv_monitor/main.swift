import PVMonitorCLI

MonitorCommand.runAsTool()
