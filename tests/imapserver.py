"""A real, throwaway Dovecot IMAP server on loopback for the IMAP tests.

`start_dovecot()` writes its own configuration into a fresh folder under the
system temporary directory (short on purpose: Dovecot's UNIX sockets live in
``base_dir`` and a socket path may not exceed 107 bytes), starts ``dovecot -F``
in the foreground and waits for the greeting. One plain-IMAP port is served on
several addresses, and Dovecot's ``local`` blocks make each address behave
like a different kind of server:

- 127.0.0.1: plain IMAP without STARTTLS (the mailbox most tests read);
- 127.0.0.2, when ``openssl`` can make a self-signed certificate: STARTTLS
  offered and required (``ssl = required``, ``disable_plaintext_auth = yes``,
  not a trusted network), so a login works only after the upgrade; IMAPS on a
  second port;
- a non-loopback address of this machine, when it has one: plain IMAP without
  STARTTLS, as a careless provider would offer it. Logins are only accepted
  from this machine (``allow_nets``), so nobody else can use the account.

One user with a plain password lives in a passwd-file; mail is kept in a
Maildir. As root, Dovecot refuses to run its login and mail processes as
root, so they run as the unprivileged system users and the Maildir belongs to
``nobody``; as an ordinary user everything runs as that user.

The fixtures (`dovecot`, `imap_server`) skip with the reason when Dovecot is
absent or cannot start. Test messages are delivered with IMAP ``APPEND``.
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

USER = "bounces"
# A throwaway test account; distinctive, so tests can prove bouncetool never shows it.
PASSWORD = "Pw-7e1c!only-in-tests"  # noqa: S105
START_TIMEOUT = 15.0
TLS_HOST = "127.0.0.2"  # STARTTLS (required) and IMAPS live on this loopback address


class DovecotUnavailableError(Exception):
    """Dovecot is not installed or would not start; the message says why."""


@dataclass
class DovecotServer:
    """A running Dovecot and the handles tests need to fill and inspect its mailbox."""

    root: Path
    port: int
    ssl_port: int | None
    cafile: Path | None
    process: subprocess.Popen[bytes]
    user: str = USER
    password: str = PASSWORD
    host: str = "127.0.0.1"
    remote_host: str | None = None  # a non-loopback address of this machine, plain IMAP only
    _mail_owner: tuple[int, int] | None = field(default=None, repr=False)

    def url(self, folder: str = "INBOX", *, secure: bool = False) -> str:
        """The URL of `folder`: plain IMAP, or ``imaps://`` on the TLS port when `secure`."""
        if secure:
            if self.ssl_port is None:
                pytest.skip("openssl could not make a certificate, so Dovecot has no IMAPS port")
            return f"imaps://{self.user}@{TLS_HOST}:{self.ssl_port}/{folder}"
        return f"imap://{self.user}@{self.host}:{self.port}/{folder}"

    def starttls_url(self, folder: str = "INBOX") -> str:
        """An ``imap://`` URL of `folder` where the server offers, and requires, STARTTLS."""
        if self.cafile is None:
            pytest.skip("openssl could not make a certificate, so Dovecot offers no STARTTLS")
        return f"imap://{self.user}@{TLS_HOST}:{self.port}/{folder}"

    def remote_url(self, folder: str = "INBOX") -> str:
        """An ``imap://`` URL of `folder` on a non-loopback address of this machine: no STARTTLS."""
        if self.remote_host is None:
            pytest.skip("this machine has no non-loopback address for a plain-IMAP listener")
        return f"imap://{self.user}@{self.remote_host}:{self.port}/{folder}"

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in imaplib client, logged out afterwards."""
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            imap.login(self.user, self.password)
            yield imap
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                imap.logout()

    def append(self, data: bytes, folder: str = "INBOX", *, seen: bool = False) -> int:
        """Deliver one message into `folder` (created if missing); returns its UID."""
        return self.append_all([data], folder, seen=seen)[0]

    def append_all(
        self, messages: Iterable[bytes], folder: str = "INBOX", *, seen: bool = False
    ) -> list[int]:
        """Deliver `messages` over one connection; returns their UIDs in order."""
        uids = []
        with self.client() as imap:
            imap.create(_quote(folder))
            flags = r"(\Seen)" if seen else None
            for data in messages:
                typ, answer = imap.append(_quote(folder), flags, None, data)
                assert typ == "OK", answer
                match = re.search(rb"APPENDUID \d+ (\d+)", answer[0] or b"")
                assert match, answer
                uids.append(int(match.group(1)))
        return uids

    def uids(self, folder: str = "INBOX", criteria: str = "ALL") -> list[int]:
        """The UIDs in `folder` matching a SEARCH `criteria` (empty when the folder is absent)."""
        with self.client() as imap:
            typ, _ = imap.select(_quote(folder), readonly=True)
            if typ != "OK":
                return []
            typ, answer = imap.uid("SEARCH", criteria)
            assert typ == "OK", answer
            return [int(uid) for uid in (answer[0] or b"").split()]

    def folders(self) -> set[str]:
        """Names of all folders of the test user."""
        with self.client() as imap:
            typ, answer = imap.list()
            assert typ == "OK", answer
        names = set()
        for line in answer:
            if isinstance(line, bytes):
                names.add(line.rsplit(b" ", 1)[-1].strip(b'"').decode())
        return names

    def reset(self) -> None:
        """Empty INBOX and remove every other folder, so each test starts clean."""
        with self.client() as imap:
            # children before their parents: Dovecot will not delete a folder with children
            for name in sorted(self.folders() - {"INBOX"}, key=len, reverse=True):
                imap.delete(_quote(name))
            imap.select("INBOX")
            imap.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            imap.expunge()

    def stop(self) -> None:
        """Stop Dovecot and remove its folder."""
        # The master process stops its children on SIGTERM.
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        """Everything Dovecot logged so far."""
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _free_port(*hosts: str) -> int:
    """A TCP port free on every one of `hosts` (Dovecot serves the plain port on all of them)."""
    for _attempt in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((hosts[0], 0))
            port = int(probe.getsockname()[1])
            if all(_can_bind(host, port) for host in hosts[1:]):
                return port
    raise DovecotUnavailableError(f"no TCP port is free on all of {', '.join(hosts)}")


def _can_bind(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _non_loopback_address() -> str | None:
    """An IPv4 address of this machine outside 127.0.0.0/8, or None when it has none.

    Connecting a UDP socket sends nothing: the kernel only picks the route and
    with it the source address it would use (here towards a documentation
    address, RFC 5737). No packet leaves the machine.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("198.51.100.1", 9))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    if address.startswith("127.") or address == "0.0.0.0" or not _can_bind(address, 0):  # noqa: S104
        return None
    return address


def _accounts() -> tuple[str, str, int, int]:
    """(internal user, login user, mail uid, mail gid) for the current privileges."""
    if os.geteuid() != 0:
        me = pwd.getpwuid(os.geteuid())
        return me.pw_name, me.pw_name, me.pw_uid, me.pw_gid
    # Dovecot will not run its login or mail processes as root.
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError as error:
        raise DovecotUnavailableError("running as root and there is no 'nobody' user") from error
    internal = _existing_user("dovecot", "nobody")
    login = _existing_user("dovenull", "nobody")
    return internal, login, nobody.pw_uid, nobody.pw_gid


def _existing_user(*names: str) -> str:
    for name in names:
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name).pw_name
    raise DovecotUnavailableError(f"none of the users {names} exists")


def _make_certificate(root: Path) -> tuple[Path, Path] | None:
    """A self-signed certificate for localhost and 127.0.0.1, or None without openssl."""
    if shutil.which("openssl") is None:
        return None
    cert, key = root / "cert.pem", root / "key.pem"
    done = subprocess.run(
        [
            *("openssl", "req", "-x509", "-nodes", "-days", "2", "-subj", "/CN=localhost"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(key), "-out", str(cert)),
            *("-addext", f"subjectAltName=DNS:localhost,IP:127.0.0.1,IP:{TLS_HOST}"),
        ],
        capture_output=True,
        check=False,
    )
    return (cert, key) if done.returncode == 0 else None


def _configuration(
    root: Path,
    port: int,
    ssl_port: int | None,
    tls: tuple[Path, Path] | None,
    remote: str | None,
) -> str:
    internal, login, uid, gid = _accounts()
    # Logins only from this machine: the non-loopback listener is reachable from the network.
    nets = ",".join(["127.0.0.0/8", *([f"{remote}/32"] if remote else [])])
    (root / "users").write_text(
        f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/mail/{USER}::allow_nets={nets}\n"
    )
    mail = root / "mail"
    mail.mkdir()
    os.chown(mail, uid, gid)
    plain_hosts = ["127.0.0.1"]
    if tls and ssl_port:
        plain_hosts.append(TLS_HOST)
        ssl_lines = f"ssl = yes\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}\n"
        imaps = f"address = {TLS_HOST}\n    port = {ssl_port}\n    ssl = yes"
        # Only TLS_HOST offers STARTTLS, and there a login works only after it: loopback
        # clients are not trusted there, so Dovecot does not count them as secure.
        filters = f"""local 127.0.0.1 {{
  ssl = no
}}
local {TLS_HOST} {{
  ssl = required
  disable_plaintext_auth = yes
  login_trusted_networks =
}}
"""
    else:
        ssl_lines, imaps, filters = "ssl = no\n", "port = 0", ""
    if remote:
        plain_hosts.append(remote)
        filters += f"local {remote} {{\n  ssl = no\n}}\n" if tls and ssl_port else ""
    return f"""# Written by tests/imapserver.py for one test session; deleted afterwards.
protocols = imap
listen = {", ".join(plain_hosts)}
instance_name = bouncetool-test-{port}
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
# Tests log in with wrong passwords on purpose: no growing penalty for loopback.
login_trusted_networks = 127.0.0.0/8
default_internal_user = {internal}
default_internal_group = {_group_of(internal)}
default_login_user = {login}
first_valid_uid = 1
first_valid_gid = 0
mail_location = maildir:~/Maildir:LAYOUT=fs
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = {", ".join(plain_hosts)}
    port = {port}
  }}
  inet_listener imaps {{
    {imaps}
  }}
}}
service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
{filters}"""


def _group_of(user: str) -> str:
    return grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name


def _wait_for_greeting(server: DovecotServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise DovecotUnavailableError(f"dovecot exited at start: {_last_lines(server)}")
        try:
            with socket.create_connection((server.host, server.port), timeout=1) as conn:
                if conn.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise DovecotUnavailableError(
        f"dovecot did not answer within {START_TIMEOUT} s: {_last_lines(server)}"
    )


def _last_lines(server: DovecotServer) -> str:
    lines = [line for line in server.log().splitlines() if "Killed with signal" not in line]
    return " | ".join(lines[-3:]) or "(no log)"


def start_dovecot() -> DovecotServer:
    """Start a throwaway Dovecot on loopback; raises `DovecotUnavailableError` with the reason."""
    binary = shutil.which("dovecot") or (
        "/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None
    )
    if binary is None:
        raise DovecotUnavailableError(
            "dovecot is not installed (Debian: apt-get install dovecot-imapd)"
        )
    root = Path(tempfile.mkdtemp(prefix="btdv-"))
    root.chmod(0o755)  # the login and mail processes run as other users and must get in
    try:
        tls = _make_certificate(root)
        remote = _non_loopback_address()
        hosts = ["127.0.0.1", *([TLS_HOST] if tls else []), *([remote] if remote else [])]
        port, ssl_port = _free_port(*hosts), (_free_port(TLS_HOST) if tls else None)
        conf = root / "dovecot.conf"
        conf.write_text(_configuration(root, port, ssl_port, tls, remote))
        process = subprocess.Popen(
            [binary, "-c", str(conf), "-F"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Same process group as the tests: if the test run is killed, Dovecot goes too.
        )
    except (OSError, DovecotUnavailableError):
        shutil.rmtree(root, ignore_errors=True)
        raise
    server = DovecotServer(
        root, port, ssl_port, tls[0] if tls else None, process, remote_host=remote
    )
    try:
        _wait_for_greeting(server)
    except DovecotUnavailableError:
        server.stop()
        raise
    return server


def tls_context(server: DovecotServer) -> ssl.SSLContext:
    """A client TLS context that trusts the test server's self-signed certificate."""
    assert server.cafile is not None
    return ssl.create_default_context(cafile=str(server.cafile))


@pytest.fixture(scope="session")
def dovecot() -> Iterator[DovecotServer]:
    """One Dovecot for the whole test session; skipped with the reason where it cannot start."""
    try:
        server = start_dovecot()
    except (DovecotUnavailableError, OSError) as error:
        pytest.skip(f"no IMAP server for this test: {error}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def imap_server(dovecot: DovecotServer) -> DovecotServer:
    """The session's Dovecot with an empty mailbox."""
    dovecot.reset()
    return dovecot
