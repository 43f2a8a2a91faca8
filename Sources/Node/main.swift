// vigil-node [config-file] [--directive value ...]: load the configuration, start the server, run
// the event loop until SIGTERM/SIGINT or SHUTDOWN.
import Shared
#if canImport(Glibc)
import Glibc
#endif

// Logs go through write(2), so stdout buffering does not delay them.
let exitCode = NodeMain.run(Array(CommandLine.arguments.dropFirst()))
exit(exitCode)
