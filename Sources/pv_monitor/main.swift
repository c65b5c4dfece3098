import PVMonitorCLI

MonitorCommand.main()
