"""`python -m atrium_hub.dask_status DB`: the clusters dask-gateway is running, as JSON.

Read-only: opens the gateway's SQLite database in read-only mode and prints
`[{"name", "user", "status", "workers"}]` for clusters that are not stopped or failed.
"""

from __future__ import annotations

import json
import sqlite3
import sys

# dask-gateway-server's JobStatus values
STATUS = {1: "created", 2: "submitted", 3: "running", 4: "closing", 5: "stopped", 6: "failed"}
ACTIVE = (1, 2, 3, 4)


def active_clusters(db_path: str) -> list[dict[str, object]]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        rows = con.execute(
            "SELECT name, username, status, count FROM clusters WHERE status IN (?, ?, ?, ?) ORDER BY username, name",
            ACTIVE,
        ).fetchall()
    finally:
        con.close()
    return [{"name": n, "user": u, "status": STATUS.get(s, str(s)), "workers": c} for n, u, s, c in rows]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m atrium_hub.dask_status DB", file=sys.stderr)
        return 2
    try:
        clusters = active_clusters(argv[0])
    except sqlite3.Error as e:
        print(f"can't read {argv[0]}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(clusters))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
