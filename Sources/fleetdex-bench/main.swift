// fleetdex-bench: builds a synthetic fleet deterministically and measures the speed figures
// the issues set. Run it in release mode:
//   swift run -c release fleetdex-bench --things 1000000 --out bench-out
import FleetIndex
import FleetQuery
import FleetSQLite
import Foundation

var options = BenchOptions.parse(CommandLine.arguments)
try Bench(options).run()
