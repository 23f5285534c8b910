// fuzz-sources: Sources/FleetIndex/Support/JSONValue.swift
// fuzz-max-len: 4096
//
// Fuzz target `json`: the JSON reader (`JSONValue.parse(bytes:)`, as every JSON input of
// fleetdex is read). Every input must give a value or a JSONError at an offset inside it;
// a value must print (compact and pretty) to text that reads back as the same value.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let value: JSONValue
    do {
        value = try JSONValue.parse(bytes: bytes)
    } catch {
        guard error.offset >= 0, error.offset <= bytes.count else {
            fatalError("error offset \(error.offset) outside the input (\(bytes.count) bytes): \(error)")
        }
        return 0
    }
    for printed in [value.compact, value.pretty] {
        do {
            let again = try JSONValue.parse(printed)
            if again != value { fatalError("round trip: \(printed.debugDescription) reads back as \(again)") }
        } catch {
            fatalError("round trip: printed \(printed.debugDescription) does not parse: \(error)")
        }
    }
    return 0
}
