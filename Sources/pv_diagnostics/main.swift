import PVDiagnostics

DiagnosticsCommand.main(DiagnosticsCommand.normalize(Array(CommandLine.arguments.dropFirst())))
