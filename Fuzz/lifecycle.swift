// fuzz-sources: Sources/FleetIndex/Support/JSONValue.swift Sources/FleetIndex/Support/FleetError.swift Sources/FleetIndex/Presence/LifecycleEvent.swift Sources/FleetIndex/Support/Timestamp.swift
// fuzz-max-len: 4096
//
// Fuzz target `lifecycle`: lifecycle event lines as `ingest-events` reads them (Presence.ingest):
// a JSON array, or JSON Lines split on LF with a CR before it dropped and blank lines skipped;
// each value through `LifecycleEvent.parse`, each accepted event's presence mark ordered
// against the one before (`PresenceMark.isNewer`), and its payload printed back.

private func lines(_ b: [UInt8]) -> [ArraySlice<UInt8>] {
    var out: [ArraySlice<UInt8>] = []
    var start = 0
    for i in 0...b.count where i == b.count || b[i] == 0x0A {
        if i == b.count && start == b.count { break }
        var line = b[start..<i]
        if line.last == 0x0D { line = line.dropLast() }
        out.append(line)
        start = i + 1
    }
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLifecycle(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var values: [JSONValue] = []
    if bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == UInt8(ascii: "[") {
        guard let doc = try? JSONValue.parse(bytes: bytes) else { return 0 }
        values = doc.arrayValue ?? []
    } else {
        for line in lines(bytes) where !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
            if let v = try? JSONValue.parse(bytes: Array(line)) { values.append(v) }
        }
    }
    var last: PresenceMark? = nil
    for v in values {
        guard let e = try? LifecycleEvent.parse(v) else { continue }
        _ = e.payload.compact
        _ = e.kind.name
        let mark = PresenceMark(timestamp: e.timestamp, kind: e.kind, session: e.session, version: e.version, reason: e.reason)
        if let last {
            _ = mark.isNewer(than: last)
            _ = last.isNewer(than: mark)
        }
        last = mark
    }
    return 0
}
