import PVDiagnosticsCLI

DiagnosticsCommand.runAsTool(DiagnosticsCommand.normalize(Array(CommandLine.arguments.dropFirst())))
