// fuzz-sources: Sources/FleetMQTT/Codec/*.swift
// fuzz-max-len: 4096
//
// Fuzz target `mqtt`: the MQTT endpoint's packet decoder (Sources/FleetMQTT/Codec), as a
// connection reads it: the first byte's low bit picks the protocol level the decoder starts
// at (3.1.1 or 5; a CONNECT decoded switches it), then packets are decoded one after another
// until the bytes end or one is refused. Each decoded packet is encoded again and must decode
// to itself; each SUBSCRIBE filter is validated and matched against each PUBLISH topic.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMQTT(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    var decoder = MQTTDecoder(maximumPacketSize: first & 2 == 0 ? MQTTDecoder.defaultMaximumPacketSize : 64,
                              version: first & 1 == 0 ? .v311 : .v5)
    var at = 1
    var filters: [String] = []
    var topics: [String] = []
    while at < bytes.count {
        let version = decoder.version ?? .v311
        guard let (packet, length) = try? decoder.decode(bytes, from: at) else { break }
        at += length
        // Round trip: what the endpoint would write reads back as the same packet.
        var again = MQTTDecoder(version: version)
        let encoded = MQTTEncoder.encode(packet, version: { if case .connect(let c) = packet { return c.version }; return version }())
        guard let back = try? again.decode(frame: encoded), back == packet else {
            fatalError("round trip failed for \(packet)")
        }
        switch packet {
        case .subscribe(let s): filters += s.subscriptions.map(\.filter)
        case .unsubscribe(let u): filters += u.filters
        case .publish(let p): topics.append(p.topic)
        default: break
        }
    }
    for f in filters.prefix(8) where TopicFilter.isValid(f) {
        for t in topics.prefix(8) { _ = TopicFilter.matches(f, t) }
    }
    return 0
}
