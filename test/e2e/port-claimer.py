"""Test helper: an ordinary user tries, again and again, to listen on given ports.

Run as the attacker (setpriv) with the ports as arguments. Every 20 ms it tries to
bind and listen on each port; a port it gets is printed ("got PORT") and let go
after 200 ms, so the service can start again and the attack can be counted rather
than stop the platform. It stops by itself after the seconds given in
ATRIUM_CLAIM_SECONDS (default 120), or when its stdin closes.
"""

from __future__ import annotations

import errno
import os
import select
import socket
import sys
import time


def main(ports: list[int]) -> None:
    deadline = time.monotonic() + float(os.environ.get("ATRIUM_CLAIM_SECONDS", "120"))
    refused: dict[str, int] = {}
    print("ready", flush=True)
    while time.monotonic() < deadline:
        if select.select([sys.stdin], [], [], 0)[0] and not sys.stdin.read(1):
            break
        for port in ports:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # As the services do: connections left in TIME_WAIT do not keep it off the port.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
                s.listen(8)
            except OSError as e:
                name = errno.errorcode.get(e.errno or 0, str(e.errno))
                refused[name] = refused.get(name, 0) + 1
                s.close()
                continue
            print(f"got {port}", flush=True)
            time.sleep(0.2)
            s.close()
        time.sleep(0.02)
    print("refused " + " ".join(f"{k}={v}" for k, v in sorted(refused.items())), flush=True)


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]])
