// fuzz-sources: Sources/FleetIndex/Support/Timestamp.swift
// fuzz-max-len: 64
//
// Fuzz target `timestamp`: `Timestamp.parse` (the command line's --at, --start-time... and
// mitigation times), and the printers on whatever instant it gives.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTimestamp(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let ms = Timestamp.parse(text) {
        _ = Timestamp.iso(ms)
        _ = Timestamp.isoZ(ms)
    }
    return 0
}
