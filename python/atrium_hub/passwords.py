"""Hub passwords: bcrypt hashes in one JSON file, and a CLI to set and check them.

The file maps user name to bcrypt hash: `{"alice": "$2b$12$..."}`. What must stay true:

- writes are atomic (temp file in the same directory, fsync, rename) and serialised
  by a lock file, so the hub and the CLI never lose each other's changes and a
  reader never sees half a file;
- the file is created 0600 and, when written by root, owned by root;
- plain passwords never appear on a command line, in a log or in an exception:
  the CLI reads them from stdin;
- these are hub passwords only; Linux account passwords are never touched.

CLI (exit 0 on success; `check` exits 1 on a wrong password or unknown user,
2 on a usage or file error):

    python -m atrium_hub.passwords set    --file F --user U   < new-password
    python -m atrium_hub.passwords check  --file F --user U   < password
    python -m atrium_hub.passwords delete --file F --user U
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import getpass
import json
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

import bcrypt

from . import contract
from .settings import NAME_PATTERN

MIN_LENGTH = 8
MAX_BYTES = 72  # bcrypt only reads the first 72 bytes; bcrypt >= 5 refuses longer input


class PasswordFileError(Exception):
    """The password file cannot be read or written."""


def password_problem(password: str) -> str | None:
    """Why `password` may not be set, or None if it may."""
    if len(password) < MIN_LENGTH:
        return f"The password must have at least {MIN_LENGTH} characters."
    if len(password.encode("utf-8")) > MAX_BYTES:
        return f"The password may have at most {MAX_BYTES} bytes."
    if password != password.strip():
        return "The password may not start or end with spaces."
    return None


class PasswordStore:
    """The bcrypt hashes of one password file."""

    def __init__(self, path: str | os.PathLike[str], rounds: int = 12) -> None:
        self.path = Path(path)
        self.rounds = rounds
        self._dummy_hash: bytes | None = None

    def read(self) -> dict[str, str]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise PasswordFileError(f"cannot read {self.path}: {e.strerror or e}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise PasswordFileError(f"{self.path} is not valid JSON (line {e.lineno})") from None
        if contract.problems("passwords", data):
            raise PasswordFileError(f"{self.path} must hold a JSON object of user name to bcrypt hash")
        hashes: dict[str, str] = data
        return hashes

    def verify(self, user: str, password: str) -> bool:
        hashed = self.read().get(user)
        if hashed is None:
            self.burn_time(password)
            return False
        try:
            return bcrypt.checkpw(password.encode("utf-8"), hashed.encode("ascii"))
        except ValueError:
            # a malformed hash, or a password bcrypt refuses (> 72 bytes)
            return False

    def burn_time(self, password: str = "") -> None:
        """Spend what a real check costs, so timing does not reveal unknown users."""
        if self._dummy_hash is None:
            self._dummy_hash = bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(self.rounds))
        with contextlib.suppress(ValueError):
            bcrypt.checkpw(password.encode("utf-8")[:MAX_BYTES], self._dummy_hash)

    def set(self, user: str, password: str) -> None:
        problem = password_problem(password)
        if problem:
            raise ValueError(problem)
        hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(self.rounds)).decode("ascii")
        with self._locked():
            data = self.read()
            data[user] = hashed
            self._write(data)

    def delete(self, user: str) -> bool:
        with self._locked():
            data = self.read()
            if user not in data:
                return False
            del data[user]
            self._write(data)
            return True

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as e:
            raise PasswordFileError(f"cannot open the lock file {lock_path}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, data: dict[str, str]) -> None:
        directory = self.path.parent
        text = json.dumps(data, indent=2, sort_keys=True) + "\n"
        try:
            # mkstemp creates the file 0600, so the hashes are never readable by others
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        except OSError as e:
            raise PasswordFileError(f"cannot write in {directory}: {e.strerror or e}") from None
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fchmod(f.fileno(), 0o600)
                if os.geteuid() == 0:
                    os.fchown(f.fileno(), 0, 0)
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise PasswordFileError(f"cannot write {self.path}: {e.strerror or e}") from None
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# --- CLI ------------------------------------------------------------------------


def _read_password(stdin: TextIO, confirm: bool) -> str:
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Repeat password: ") != first:
            raise ValueError("The passwords do not match.")
        return first
    line = stdin.readline()
    return line[:-1] if line.endswith("\n") else line


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m atrium_hub.passwords",
        description="Set, check or delete Atrium hub passwords. Passwords are read from stdin.",
    )
    parser.add_argument("command", choices=["set", "check", "delete"])
    parser.add_argument("--file", required=True, help="the password file (JSON of user to bcrypt hash)")
    parser.add_argument("--user", required=True, help="the hub user name")
    args = parser.parse_args(argv)
    stdin = sys.stdin if stdin is None else stdin

    if not NAME_PATTERN.match(args.user):
        print(f"error: {args.user!r} is not a valid user name", file=sys.stderr)
        return 2
    store = PasswordStore(args.file)
    try:
        if args.command == "set":
            store.set(args.user, _read_password(stdin, confirm=True))
            return 0
        if args.command == "check":
            return 0 if store.verify(args.user, _read_password(stdin, confirm=False)) else 1
        if not store.delete(args.user):
            print(f"{args.user} has no password in {args.file}", file=sys.stderr)
        return 0
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except PasswordFileError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
