// The Python clients the tests run (argv: port, CA file, then the script's own arguments).

enum ClientScripts {
    /// `frame(type, body)`: an MQTT packet with its remaining length (the raw clients' helper).
    static let frame = #"""
def frame(t, body):
    n = len(body); rl = b""
    while True:
        b = n & 0x7F; n >>= 7
        rl += bytes([b | (0x80 if n else 0)])
        if not n: break
    return bytes([t]) + rl + body
"""#

    /// A raw MQTT client over TLS: steps `connect:<clientId>:<keepAlive>:<level>`, `send:<hex>`,
    /// `read:<seconds>` (prints `R <hex> open|closed`), `sleep:<seconds>`, `drop` (closes the
    /// socket without DISCONNECT). argv: port ca cert key steps...
    static let raw = #"""
import socket, ssl, sys, time
port, ca, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
ctx.set_alpn_protocols(["x-amzn-mqtt-ca"])
try:
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
    s.settimeout(5)
    s.do_handshake()
except Exception as e:
    print("TLS-FAILED", type(e).__name__); sys.exit(0)
print("TLS", s.version(), s.selected_alpn_protocol())
closed = False
\#(frame)
for step in sys.argv[5:]:
    kind, _, arg = step.partition(":")
    try:
        if kind == "connect":
            cid, ka, level = arg.split(":")
            props = b"\x00" if level == "5" else b""
            body = b"\x00\x04MQTT" + bytes([int(level), 2]) + int(ka).to_bytes(2, "big") + props + len(cid).to_bytes(2, "big") + cid.encode()
            s.sendall(frame(0x10, body))
        elif kind == "send":
            s.sendall(bytes.fromhex(arg))
        elif kind == "sleep":
            time.sleep(float(arg))
        elif kind == "drop":
            s.close(); closed = True
        elif kind == "read":
            s.settimeout(float(arg)); out = b""; end = time.time() + float(arg)
            try:
                while time.time() < end:
                    d = s.recv(65536)
                    if not d: closed = True; break
                    out += d
            except socket.timeout: pass
            except (ssl.SSLError, OSError): closed = True
            print("R", out.hex() or "-", "closed" if closed else "open", flush=True)
    except (ssl.SSLError, OSError) as e:
        print("E", type(e).__name__, flush=True); closed = True
"""#

    /// paho-mqtt: connects and prints the CONNACK reason code value, then disconnects.
    /// argv: port ca cert key clientId protocol(5|4)
    static let pahoConnect = #"""
import sys, time, paho.mqtt.client as mqtt
port, ca, cert, key, cid, proto = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5 if proto == "5" else mqtt.MQTTv311)
c.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
result = []
c.on_connect = lambda cl, u, flags, rc, props=None: result.append(rc)
c.connect("localhost", port, keepalive=60)
end = time.time() + 10
while not result and time.time() < end: c.loop(0.1)
rc = result[0] if result else None
print("RC", rc.value if rc is not None else "none", str(rc))
if rc is not None and rc.value == 0: c.disconnect(); c.loop(0.5)
"""#

    /// paho-mqtt subscriber: subscribes to the filters (QoS 1), prints `SUBACK codes`, then
    /// `MSG <topic> <payload>` per message until `count` messages arrived or `seconds` passed.
    /// Prints READY once subscribed. argv: port ca cert key clientId count seconds filters...
    static let pahoSubscribe = #"""
import sys, time, paho.mqtt.client as mqtt
port, ca, cert, key, cid = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
count, seconds, filters = int(sys.argv[6]), float(sys.argv[7]), sys.argv[8:]
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv311)
c.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
got = []; state = {}
def on_connect(cl, u, flags, rc, props=None):
    cl.subscribe([(f, 1) for f in filters])
def on_subscribe(cl, u, mid, rcs, props=None):
    print("SUBACK", " ".join(str(r.value) for r in rcs)); print("READY", flush=True); state["ready"] = True
def on_message(cl, u, m):
    got.append(m); print("MSG", m.topic, m.payload.decode(), flush=True)
c.on_connect = on_connect; c.on_subscribe = on_subscribe; c.on_message = on_message
c.connect("localhost", port, keepalive=60)
end = time.time() + seconds
while len(got) < count and time.time() < end: c.loop(0.05)
c.disconnect(); c.loop(0.2)
"""#

    /// The AWS IoT Device SDK v2: connects with mtls_from_path, prints CONNECTED, optionally
    /// runs shadow requests, disconnects; prints FAILED <error> when connect fails.
    /// argv: port ca cert key clientId [shadow thing]
    static let sdk = #"""
import sys, json, time, threading
from awscrt import mqtt
from awsiot import mqtt_connection_builder
port, ca, cert, key, cid = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
conn = mqtt_connection_builder.mtls_from_path(endpoint="localhost", port=port, cert_filepath=cert, pri_key_filepath=key,
                                              ca_filepath=ca, client_id=cid, clean_session=True, keep_alive_secs=30)
try:
    conn.connect().result(timeout=30)
except Exception as e:
    print("FAILED", type(e).__name__, e); sys.exit(0)
print("CONNECTED", flush=True)
if len(sys.argv) > 7 and sys.argv[6] == "shadow":
    thing = sys.argv[7]
    base = "$aws/things/%s/shadow/" % thing
    got = {}; lock = threading.Condition()
    def on_msg(topic, payload, **kw):
        with lock:
            got.setdefault(topic, []).append(json.loads(payload)); lock.notify_all()
    for t in ["update/accepted", "update/rejected", "update/delta", "update/documents", "get/accepted", "get/rejected"]:
        f, _ = conn.subscribe(topic=base + t, qos=mqtt.QoS.AT_LEAST_ONCE, callback=on_msg); f.result(timeout=10)
    def wait(topic):
        with lock:
            end = time.time() + 10
            while topic not in got and time.time() < end: lock.wait(0.2)
            return got.get(topic, [None]).pop(0) if topic in got else None
    f, _ = conn.publish(topic=base + "get", payload=json.dumps({"clientToken": "g0"}), qos=mqtt.QoS.AT_LEAST_ONCE); f.result(timeout=10)
    print("GET0", json.dumps(wait(base + "get/rejected")))
    doc = {"state": {"desired": {"color": "red", "power": 5}, "reported": {"color": "blue", "power": 5}}, "clientToken": "u1"}
    f, _ = conn.publish(topic=base + "update", payload=json.dumps(doc), qos=mqtt.QoS.AT_LEAST_ONCE); f.result(timeout=10)
    print("ACCEPTED", json.dumps(wait(base + "update/accepted")))
    print("DELTA", json.dumps(wait(base + "update/delta")))
    print("DOCUMENTS", json.dumps(wait(base + "update/documents")))
    f, _ = conn.publish(topic=base + "get", payload=json.dumps({"clientToken": "g1"}), qos=mqtt.QoS.AT_LEAST_ONCE); f.result(timeout=10)
    print("GET", json.dumps(wait(base + "get/accepted")))
    f, _ = conn.publish(topic=base + "update", payload="not json", qos=mqtt.QoS.AT_LEAST_ONCE); f.result(timeout=10)
    print("REJECTED", json.dumps(wait(base + "update/rejected")))
conn.disconnect().result(timeout=10)
print("DISCONNECTED", flush=True)
"""#

    /// A subscriber that stops reading: a small receive buffer, SUBSCRIBE (3.1.1), READY, then
    /// nothing read until a line comes on its standard input (or `stall` seconds pass); then it
    /// reads until the server closes or 3 s pass quietly, sends DISCONNECT if still open, and
    /// prints `BYTES <n> closed|open`. argv: port ca cert key clientId filter qos stall
    static let slowSubscriber = #"""
import select, socket, ssl, sys, time
port, ca, cert, key, cid, filt, qos, stall = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], int(sys.argv[7]), float(sys.argv[8])
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.connect(("127.0.0.1", port))
s = ctx.wrap_socket(raw, server_hostname="localhost")
\#(frame)
s.sendall(frame(0x10, b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid.encode()))
s.settimeout(5); s.recv(4)
s.sendall(frame(0x82, b"\x00\x01" + len(filt).to_bytes(2, "big") + filt.encode() + bytes([qos])))
s.recv(5)
print("READY", flush=True)
select.select([sys.stdin], [], [], stall)
n, closed = 0, False
s.settimeout(3)
try:
    while True:
        d = s.recv(65536)
        if not d: closed = True; break
        n += len(d)
except socket.timeout: pass
except (ssl.SSLError, OSError): closed = True
if not closed:
    try: s.sendall(b"\xe0\x00"); time.sleep(0.2)
    except (ssl.SSLError, OSError): closed = True
print("BYTES", n, "closed" if closed else "open", flush=True)
"""#

    /// Publishes `count` messages of `size` bytes at `qos` (3.1.1), reads what comes back for
    /// a second, sends DISCONNECT and prints `SENT <count>`.
    /// argv: port ca cert key clientId topic count size qos
    static let flood = #"""
import socket, ssl, sys, time
port, ca, cert, key, cid, topic = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
count, size, qos = int(sys.argv[7]), int(sys.argv[8]), int(sys.argv[9])
ctx = ssl.create_default_context(cafile=ca)
ctx.load_cert_chain(cert, key)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
\#(frame)
s.sendall(frame(0x10, b"\x00\x04MQTT\x04\x02\x00\x3c" + len(cid).to_bytes(2, "big") + cid.encode()))
s.settimeout(5); s.recv(4)
t = len(topic).to_bytes(2, "big") + topic.encode()
for i in range(count):
    pid = (i + 1).to_bytes(2, "big") if qos else b""
    s.sendall(frame(0x30 | qos << 1, t + pid + bytes([i % 256]) * size))
s.settimeout(0.2); end = time.time() + 1
while time.time() < end:
    try:
        if not s.recv(65536): break
    except socket.timeout: pass
s.sendall(b"\xe0\x00"); time.sleep(0.1)
print("SENT", count, flush=True)
"""#

    /// paho-mqtt, MQTT 5: connects with the CONNECT property Maximum Packet Size (unless 0),
    /// subscribes to `filter` (QoS 1), prints READY, then `MSG <topic> <payload length>` per
    /// message until one arrives on `end` or `seconds` pass.
    /// argv: port ca cert key clientId maximumPacketSize seconds filter end
    static let pahoMaximumPacketSize = #"""
import sys, time, paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes
port, ca, cert, key, cid = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
limit, seconds, filt, last = int(sys.argv[6]), float(sys.argv[7]), sys.argv[8], sys.argv[9]
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=cid, protocol=mqtt.MQTTv5)
c.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
props = None
if limit:
    props = Properties(PacketTypes.CONNECT); props.MaximumPacketSize = limit
state = {"done": False}
def on_connect(cl, u, flags, rc, p=None): cl.subscribe(filt, qos=1)
def on_subscribe(cl, u, mid, rcs, p=None): print("READY", flush=True)
def on_message(cl, u, m):
    print("MSG", m.topic, len(m.payload), flush=True)
    if m.topic == last: state["done"] = True
c.on_connect = on_connect; c.on_subscribe = on_subscribe; c.on_message = on_message
c.connect("localhost", port, keepalive=60, properties=props)
end = time.time() + seconds
while not state["done"] and time.time() < end: c.loop(0.05)
c.disconnect(); c.loop(0.2)
"""#
}
