// vigil-sentinel sentinel.conf [--directive value ...]: a Redis-Sentinel-compatible supervisor.
import Shared
#if canImport(Glibc)
import Glibc
#endif

exit(SentinelMain.run(Array(CommandLine.arguments.dropFirst())))
