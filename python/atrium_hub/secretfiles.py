"""Read secrets (cookie secret, proxy and service tokens) from root-only files.

What must stay true: a secret's value never appears in an exception, a log line
or a command line; only the file's path does. A file that group or others can
read is refused, as JupyterHub refuses its own cookie_secret_file. One exception: a
Kubernetes Secret volume can only give its files to a group (the pod's fsGroup), so a
file readable by the process's own group, which is not root's, is accepted when
nobody else may read it and nobody but its owner may write it.
"""

from __future__ import annotations

import os
import stat


class SecretFileError(Exception):
    """A secret file is missing, unsafe or empty."""

    def __init__(self, path: str, what: str, problem: str) -> None:
        self.path = path
        super().__init__(f"{what} file {path}: {problem}")


def read_secret(path: str, what: str) -> str:
    """Return the stripped text of a 0600-style secret file."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise SecretFileError(path, what, f"cannot read it: {e.strerror or e}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretFileError(path, what, "is not a regular file")
    own_group = st.st_gid == os.getegid() and os.getegid() != 0
    if st.st_mode & (0o037 if own_group else 0o077):
        raise SecretFileError(
            path, what, f"mode {stat.S_IMODE(st.st_mode):04o} lets group or others read it; use chmod 600"
        )
    try:
        with open(path, encoding="utf-8") as f:
            value = f.read().strip()
    except (OSError, UnicodeDecodeError) as e:
        reason = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
        raise SecretFileError(path, what, f"cannot read it: {reason}") from None
    if not value:
        raise SecretFileError(path, what, "is empty")
    return value


def read_cookie_secret(path: str) -> bytes:
    """JupyterHub's cookie secret: 32 bytes written as 64 hex characters."""
    text = read_secret(path, "cookie secret")
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        raise SecretFileError(path, "cookie secret", "is not hex text; write 64 hex characters") from None
    if len(secret) != 32:
        raise SecretFileError(
            path, "cookie secret", f"holds {len(secret)} bytes; JupyterHub needs 32 (64 hex characters)"
        )
    return secret
