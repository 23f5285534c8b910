"""Slow clients against `fleetdex serve --header-timeout 1 --body-timeout 1`: each row says what
the client does and whether the server must close the connection. Prints one line per case and
'N passed, M failed'."""
import socket
import sys
import time

import boto3
from botocore.config import Config

host, port = "127.0.0.1", int(sys.argv[1].rsplit(":", 1)[1])
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def closed_within(sock, seconds):
    """True when the server closes the connection (EOF or reset) within `seconds`."""
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# A head that never ends (slowloris): closed after about a second, though bytes keep coming.
s = socket.create_connection((host, port))
s.sendall(b"GET /_fleetdex/health HTTP/1.1\r\nHost: x\r\n")
start = time.monotonic()
closed = False
for _ in range(8):
    try:
        s.sendall(b"X-Slow: 1\r\n")
    except OSError:
        closed = True
        break
    if closed_within(s, 0.5):
        closed = True
        break
check("an unfinished head is closed", closed and time.monotonic() - start < 4, f"after {time.monotonic() - start:.1f}s")

# A body shorter than its Content-Length: closed.
s = socket.create_connection((host, port))
s.sendall(b"POST /_fleetdex/presence HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
check("an unfinished body is closed", closed_within(s, 4))

# A connection that sends nothing: closed.
s = socket.create_connection((host, port))
check("a silent connection is closed", closed_within(s, 4))

# A whole request in time is answered, and the kept-alive connection is closed after a second of quiet.
s = socket.create_connection((host, port))
s.sendall(b"GET /_fleetdex/health HTTP/1.1\r\nHost: x\r\n\r\n")
s.settimeout(4)
reply = s.recv(4096)
check("a prompt request is answered", reply.startswith(b"HTTP/1.1 200"), repr(reply[:40]))
check("a quiet kept-alive connection is closed", closed_within(s, 4))

# A long poll longer than the timeouts is answered: the server is the slow one, not the client.
sqs = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id="AKIDLOCAL",
                   aws_secret_access_key="s3cret", config=Config(retries={"max_attempts": 1}, read_timeout=10))
url = sqs.create_queue(QueueName="slow")["QueueUrl"]
start = time.monotonic()
got = sqs.receive_message(QueueUrl=url, WaitTimeSeconds=2)
check("a 2 s long poll is answered", "Messages" not in got and time.monotonic() - start >= 1.9, f"{time.monotonic() - start:.1f}s")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
