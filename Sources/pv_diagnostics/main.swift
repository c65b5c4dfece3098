import PVDiagnosticsCLI

DiagnosticsCommand.main(DiagnosticsCommand.normalize(Array(CommandLine.arguments.dropFirst())))
