"""IMAP mailboxes as a bounce source: ``imap://user@host[:port]/FOLDER`` and ``imaps://...``.

Reading never changes the mailbox: the folder is opened with ``EXAMINE``
(read-only) and bodies are fetched with ``BODY.PEEK[]``, so not even the
``\\Seen`` flag moves. Only after the caller has stored the verdicts safely
(the ledger commit) does a separate call, `settle`, mark the messages read,
move them or — only when asked — delete them. A run killed in between reads
the same messages again next time, and the ledger counts each bounce once.

The password never travels in the URL or on the command line: it comes from
an environment variable (``BOUNCETOOL_IMAP_PASSWORD`` unless the configuration
names another) or from a file. No message this module produces contains it.

The password never crosses a network in clear text either. ``imaps://`` talks
TLS from the first byte; ``imap://`` upgrades the connection with STARTTLS
(RFC 2595, RFC 9051 section 6.2.1) whenever the server announces it. Both
verify the certificate and the host name (against ``ca_file`` or the system
store, which honours ``SSL_CERT_FILE``); a failed handshake is one error
line, never a silent fall back to plain text. A server that offers no STARTTLS
gets the password only when the connection is to a loopback address (it never
leaves the machine) or the configuration says ``allow_plaintext = true``;
otherwise the login is refused before anything secret is sent. The decision
uses the address actually connected to, so an SSH tunnel on ``localhost``
counts as loopback and a name that resolves to a remote server does not.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import imaplib
import ipaddress
import os
import re
import ssl
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

from bouncetool.errors import ConfigError, SourceError
from bouncetool.model import Problem, RawMessage
from bouncetool.sources import mbox

DEFAULT_PASSWORD_ENV = "BOUNCETOOL_IMAP_PASSWORD"  # noqa: S105  (the variable's name, not a secret)
SCHEMES = {"imap": 143, "imaps": 993}
FETCH_BATCH = 50  # messages per UID FETCH: few round trips ...
FETCH_BYTES = 2 << 20  # ... and at most this much mail held at once
MAX_MESSAGE_BYTES = mbox.MAX_MESSAGE_BYTES  # larger messages are skipped, as in files


def is_imap_url(spec: str) -> bool:
    """True when `spec` names an IMAP mailbox rather than a file."""
    return spec.split("://", 1)[0].lower() in SCHEMES and "://" in spec


@dataclass(frozen=True, slots=True)
class ImapLocation:
    """Where a mailbox is: server, user and folder, never the password."""

    secure: bool
    user: str
    host: str
    port: int
    folder: str

    @property
    def url(self) -> str:
        """The mailbox as a URL without secrets: what records and messages name as their source."""
        scheme = "imaps" if self.secure else "imap"
        default = SCHEMES[scheme]
        port = "" if self.port == default else f":{self.port}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{self.user}@{host}{port}/{self.folder}"


def parse_imap_url(url: str) -> ImapLocation:
    """The location a ``imap[s]://user@host[:port]/FOLDER`` URL names (folder defaults to INBOX).

    Raises `SourceError` for anything else, including a URL that carries a
    password: the message then never repeats the URL.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise SourceError(
            f"not an IMAP URL ({error}): expected imap://user@host[:port]/FOLDER"
        ) from error
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise SourceError(f"{url}: not an IMAP URL: expected imap://user@host[:port]/FOLDER")
    if parts.password is not None:
        # Do not echo the URL: it holds the secret.
        raise SourceError(
            f"{scheme}://{parts.username}@{parts.hostname}: a password in the URL is refused; "
            f"put it in {DEFAULT_PASSWORD_ENV} or a password file"
        )
    if not parts.username or not parts.hostname:
        raise SourceError(f"{url}: the IMAP URL needs a user and a host: imap://user@host/FOLDER")
    folder = unquote(parts.path.lstrip("/")) or "INBOX"
    return ImapLocation(
        secure=scheme == "imaps",
        user=unquote(parts.username),
        host=parts.hostname,
        port=port or SCHEMES[scheme],
        folder=folder,
    )


class AfterReadAction(enum.StrEnum):
    """What happens to a message once its verdicts are in the ledger."""

    KEEP = "keep"  # leave it untouched (what classify does: reading is never a change)
    SEEN = "seen"  # set \Seen: the default of unattended runs
    MOVE = "move"  # set \Seen and move it to a folder
    DELETE = "delete"  # set \Deleted and expunge it: only when asked for


@dataclass(frozen=True, slots=True)
class AfterRead:
    """An `AfterReadAction` and, for ``move``, the folder to move to."""

    action: AfterReadAction = AfterReadAction.SEEN
    folder: str | None = None

    @classmethod
    def parse(cls, text: str) -> AfterRead:
        """``keep``, ``seen``, ``move:FOLDER`` or ``delete``; raises `ConfigError` otherwise."""
        name, colon, folder = text.strip().partition(":")
        try:
            action = AfterReadAction(name.strip().lower())
        except ValueError:
            raise ConfigError(
                f"after_read {text!r}: expected 'seen', 'move:FOLDER', 'delete' or 'keep'"
            ) from None
        if action is AfterReadAction.MOVE:
            if not folder.strip():
                raise ConfigError("after_read 'move' needs a folder: 'move:FOLDER'")
            return cls(action, folder.strip())
        if colon:
            raise ConfigError(f"after_read {text!r}: only 'move' takes a folder")
        return cls(action)

    def __str__(self) -> str:
        return f"move:{self.folder}" if self.action is AfterReadAction.MOVE else str(self.action)


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """How to reach one mailbox and what to do with what was read."""

    location: ImapLocation
    password_env: str = DEFAULT_PASSWORD_ENV
    password_file: Path | None = None
    ca_file: Path | None = None
    unseen_only: bool = True
    after_read: AfterRead = AfterRead()
    timeout: float = 60.0
    # Log in without TLS to a non-loopback server that offers no STARTTLS (a trusted network).
    allow_plaintext: bool = False

    @classmethod
    def from_url(cls, url: str) -> ImapSettings:
        """Settings for a bare URL: password from the default variable, unseen only, keep."""
        return cls(parse_imap_url(url), after_read=AfterRead(AfterReadAction.KEEP))


def read_password(settings: ImapSettings) -> str:
    """The mailbox password from the configured file, else the environment variable.

    Raises `SourceError` naming where it looked; the error never holds the password.
    """
    if settings.password_file is not None:
        try:
            text = settings.password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise SourceError(
                f"{settings.location.url}: cannot read the password file "
                f"{settings.password_file}: {getattr(error, 'strerror', None) or 'not UTF-8 text'}"
            ) from None
        password = text.rstrip("\r\n")
        if not password:
            raise SourceError(
                f"{settings.location.url}: the password file {settings.password_file} is empty"
            )
        return password
    password = os.environ.get(settings.password_env, "")
    if not password:
        raise SourceError(
            f"{settings.location.url}: no password: set the environment variable "
            f"{settings.password_env} (or name a password_file in the configuration)"
        )
    return password


@dataclass(frozen=True, slots=True)
class Receipt:
    """What one read took from a mailbox: enough for `settle` to find the same messages."""

    uidvalidity: int
    uids: tuple[int, ...]


class ImapMailbox:
    """One logged-in connection to one folder (a context manager).

    The folder is opened read-only for `iter_messages` and read-write for
    `settle`; `uidvalidity` tells whether UIDs still mean the same messages.
    """

    def __init__(self, settings: ImapSettings, *, writable: bool = False) -> None:
        """Prepare a connection; nothing happens on the network before ``with``."""
        self.settings = settings
        self.writable = writable
        self.uidvalidity = 0
        self._imap: imaplib.IMAP4 | None = None

    @property
    def url(self) -> str:
        """The mailbox URL without secrets."""
        return self.settings.location.url

    def __enter__(self) -> ImapMailbox:
        """Connect, log in and open the folder; `SourceError` when any of it fails."""
        self._imap = self._connect()
        try:
            self._login(self._imap)
            self._open_folder(self._imap)
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Log out, quietly: the work is done or already failed."""
        self.close()

    def close(self) -> None:
        """Log out and drop the connection."""
        if self._imap is not None:
            with contextlib.suppress(imaplib.IMAP4.error, OSError, ValueError):
                self._imap.logout()
            self._imap = None

    def _connect(self) -> imaplib.IMAP4:
        """A connection that is encrypted or allowed to stay plain (see `_protect`)."""
        where = self.settings.location
        try:
            if where.secure:
                return imaplib.IMAP4_SSL(
                    where.host,
                    where.port,
                    ssl_context=self._tls_context(),
                    timeout=self.settings.timeout,
                )
            imap = imaplib.IMAP4(where.host, where.port, timeout=self.settings.timeout)
        except ssl.SSLError as error:  # before OSError: SSLError is one
            raise SourceError(f"{self.url}: {_tls_failure(error)}") from None
        except (OSError, imaplib.IMAP4.error) as error:
            raise SourceError(f"{self.url}: cannot connect: {_describe(error)}") from None
        try:
            self._protect(imap)
        except BaseException:
            with contextlib.suppress(OSError):
                imap.shutdown()
            raise
        return imap

    def _protect(self, imap: imaplib.IMAP4) -> None:
        """Upgrade a plain connection with STARTTLS, or make sure it may stay plain.

        Called before anything secret is sent. Raises `SourceError` when the
        upgrade fails (never falls back to plain text) and when the server
        offers no STARTTLS, the peer is not on loopback and plain text was not
        allowed.
        """
        if "STARTTLS" in imap.capabilities:
            context = self._tls_context()
            try:
                imap.starttls(context)
            except ssl.SSLError as error:
                raise SourceError(f"{self.url}: {_tls_failure(error, 'STARTTLS')}") from None
            except imaplib.IMAP4.error as error:
                raise SourceError(f"{self.url}: STARTTLS failed: {_describe(error)}") from None
            except OSError as error:
                raise SourceError(
                    f"{self.url}: connection lost during STARTTLS: {_describe(error)}"
                ) from None
            return
        peer = _peer_address(imap)
        if self.settings.allow_plaintext or is_loopback(peer):
            return
        host = self.settings.location.host
        where = host if peer in ("", host) else f"{host} ({peer})"
        raise SourceError(
            f"{self.url}: the server offers no STARTTLS and {where} is not a loopback address, "
            "so the password would cross the network unencrypted: login refused; use imaps:// "
            "or, on a network you trust, set allow_plaintext = true for this source"
        )

    def _tls_context(self) -> ssl.SSLContext:
        """The client context for imaps and STARTTLS: certificate and host name verified."""
        ca_file = self.settings.ca_file
        try:
            return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
        except (OSError, ValueError) as error:  # ssl.SSLError is an OSError: a file without PEM
            reason = getattr(error, "reason", None) or _describe(error)
            raise SourceError(f"{self.url}: cannot use the ca_file {ca_file}: {reason}") from None

    def _login(self, imap: imaplib.IMAP4) -> None:
        password = read_password(self.settings)
        try:
            imap.login(self.settings.location.user, password)
        except imaplib.IMAP4.error as error:
            # The server's answer is safe to show; the password never is.
            raise SourceError(
                f"{self.url}: login refused for {self.settings.location.user}: "
                f"{_describe(error).replace(password, '***')}"
            ) from None
        except OSError as error:
            raise SourceError(f"{self.url}: connection lost at login: {_describe(error)}") from None
        # Servers announce more after login (MOVE, UIDPLUS); imaplib only kept the greeting's list.
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            typ, data = imap.capability()
            if typ == "OK" and data and isinstance(data[-1], bytes):
                imap.capabilities = tuple(data[-1].decode("ascii", "replace").upper().split())

    def _open_folder(self, imap: imaplib.IMAP4) -> None:
        folder = self.settings.location.folder
        typ, data = imap.select(quote_folder(folder), readonly=not self.writable)
        if typ != "OK":
            raise SourceError(f"{self.url}: cannot open folder {folder!r}: {_text(data)}")
        validity = imap.response("UIDVALIDITY")[1]
        self.uidvalidity = int(validity[0]) if validity and validity[0] else 0

    def _require(self) -> imaplib.IMAP4:
        if self._imap is None:
            raise RuntimeError("ImapMailbox used outside 'with'")
        return self._imap

    def _command(self, command: str, *args: str) -> list[object]:
        """One UID command; `SourceError` unless the server says OK."""
        try:
            typ, data = self._require().uid(command, *args)
        except (imaplib.IMAP4.error, OSError) as error:
            raise SourceError(f"{self.url}: {command} failed: {_describe(error)}") from None
        if typ != "OK":
            raise SourceError(f"{self.url}: {command} failed: {_text(data)}")
        return list(data)

    def search(self) -> list[int]:
        """UIDs to read: unseen ones (or all, when configured), oldest first."""
        criteria = "UNSEEN" if self.settings.unseen_only else "ALL"
        data = self._command("SEARCH", criteria)
        first = data[0] if data else b""
        return sorted(int(uid) for uid in first.split()) if isinstance(first, bytes) else []

    def iter_messages(self, uids: Sequence[int] | None = None) -> Iterator[RawMessage | Problem]:
        """Each message as a `RawMessage` numbered by its UID; BODY.PEEK moves no flag.

        Sizes are asked first, so memory stays bounded: bodies come in batches
        of at most `FETCH_BATCH` messages or `FETCH_BYTES`, and a message over
        `MAX_MESSAGE_BYTES` is a `Problem`, never fetched (and never marked read).
        """
        wanted = self.search() if uids is None else list(uids)
        sizes = self._sizes(wanted)
        batch: list[int] = []
        batch_bytes = 0
        for uid in wanted:
            size = sizes.get(uid)
            if size is None:
                continue  # expunged by another client after our SEARCH: nothing to read
            too_large = size > MAX_MESSAGE_BYTES
            full = len(batch) >= FETCH_BATCH or batch_bytes + size > FETCH_BYTES
            if batch and (too_large or full):  # what came before goes first: UID order
                yield from self._fetch(batch)
                batch, batch_bytes = [], 0
            if too_large:
                limit = _size(MAX_MESSAGE_BYTES)
                yield Problem(self.url, uid, f"message larger than {limit}: skipped")
                continue
            batch.append(uid)
            batch_bytes += size
        if batch:
            yield from self._fetch(batch)

    def _sizes(self, uids: Sequence[int]) -> dict[int, int]:
        sizes: dict[int, int] = {}
        for start in range(0, len(uids), 500):
            part = sequence_set(uids[start : start + 500])
            for item in self._command("FETCH", part, "(UID RFC822.SIZE)"):
                text = item if isinstance(item, bytes) else b""
                uid, size = _FETCH_UID.search(text), _FETCH_SIZE.search(text)
                if uid and size:
                    sizes[int(uid.group(1))] = int(size.group(1))
        return sizes

    def _fetch(self, batch: Sequence[int]) -> Iterator[RawMessage]:
        bodies = _bodies(self._command("FETCH", sequence_set(batch), "(UID BODY.PEEK[])"))
        for uid in batch:
            data = bodies.get(uid)
            if data is not None:  # None: expunged meanwhile
                yield RawMessage(source=self.url, number=uid, data=data)

    def settle(self, uids: Iterable[int], uidvalidity: int) -> int:
        """Apply the configured after-read action to `uids`; returns how many were handled.

        Does nothing when the folder's UIDVALIDITY changed since the read
        (the UIDs would name other messages): they are read again next time
        and the ledger counts them once.
        """
        wanted = sorted(set(uids))
        after = self.settings.after_read
        if not wanted or after.action is AfterReadAction.KEEP:
            return 0
        if uidvalidity != self.uidvalidity:
            return 0
        moved: list[str] = []
        for start in range(0, len(wanted), 500):
            moved += self._settle_batch(sequence_set(wanted[start : start + 500]), after)
        if moved and after.folder:
            self._mark_read_in(after.folder, moved)
        return len(wanted)

    def _settle_batch(self, uid_set: str, after: AfterRead) -> list[str]:
        """Settle one batch; for a move, the UID sets the messages got in the target folder."""
        if after.action is AfterReadAction.MOVE:
            # Move first, mark read in the target afterwards: a run killed in
            # between leaves unread mail in the archive folder, never read mail
            # stuck in the source folder, where no later run would look at it.
            return self._move(uid_set, after.folder or "")
        self._command("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen)")
        if after.action is AfterReadAction.DELETE:
            self._command("STORE", uid_set, "+FLAGS.SILENT", r"(\Deleted)")
            self._expunge(uid_set)
        return []

    def _move(self, uid_set: str, folder: str) -> list[str]:
        imap = self._require()
        with contextlib.suppress(imaplib.IMAP4.error):
            imap.create(quote_folder(folder))  # NO when it exists: fine
        imap.untagged_responses.pop("COPYUID", None)
        if "MOVE" in imap.capabilities:
            self._command("MOVE", uid_set, quote_folder(folder))
        else:
            # RFC 6851 absent: copy, then delete the originals (only those, with UIDPLUS).
            self._command("COPY", uid_set, quote_folder(folder))
            self._command("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen \Deleted)")
            self._expunge(uid_set)
        # UIDPLUS (RFC 4315) says which UIDs the copies got: "validity source-set target-set".
        _typ, answers = imap.response("COPYUID")
        return [
            answer.split()[-1].decode("ascii")
            for answer in answers or ()
            if isinstance(answer, bytes) and len(answer.split()) == 3
        ]

    def _mark_read_in(self, folder: str, uid_sets: Sequence[str]) -> None:
        """Mark the moved copies read; without UIDPLUS they stay unread (nothing is lost)."""
        imap = self._require()
        typ, data = imap.select(quote_folder(folder))
        if typ != "OK":
            raise SourceError(f"{self.url}: cannot open folder {folder!r}: {_text(data)}")
        for uid_set in uid_sets:
            self._command("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen)")
        self._open_folder(imap)  # back to the folder this mailbox is about

    def _expunge(self, uid_set: str) -> None:
        # Without UIDPLUS an EXPUNGE would also remove what others marked deleted:
        # leave the \Deleted flag and let the owner's client expunge.
        if "UIDPLUS" in self._require().capabilities:
            self._command("EXPUNGE", uid_set)


def is_loopback(address: str) -> bool:
    """True for a loopback address (127.0.0.0/8, ``::1``, IPv4-mapped ones) or ``localhost``.

    Traffic to such an address never leaves the machine, so a password sent
    there without TLS cannot be read on a network. This machine's other
    addresses do not count, although the kernel keeps that traffic local too:
    a rule by kind of address is one a user can predict from the URL.
    """
    name = address.strip().rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def iter_imap(url: str) -> Iterator[RawMessage | Problem]:
    """Read the unseen messages of the mailbox `url` without changing anything.

    For ``classify`` and other one-off reads: the password comes from
    ``BOUNCETOOL_IMAP_PASSWORD``. Raises `SourceError` when the mailbox cannot
    be reached.
    """
    with ImapMailbox(ImapSettings.from_url(url)) as mailbox:
        yield from mailbox.iter_messages()


def sequence_set(uids: Sequence[int]) -> str:
    """A compact IMAP sequence set (``1:3,7,9:10``) for sorted `uids`."""
    ranges: list[str] = []
    start = previous = uids[0]
    for uid in [*uids[1:], None]:
        if uid is not None and uid == previous + 1:
            previous = uid
            continue
        ranges.append(str(start) if start == previous else f"{start}:{previous}")
        if uid is not None:
            start = previous = uid
    return ",".join(ranges)


def quote_folder(folder: str) -> str:
    """`folder` as an IMAP quoted string in modified UTF-7 (RFC 3501, 5.1.3)."""
    encoded = encode_modified_utf7(folder)
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_modified_utf7(text: str) -> str:
    """`text` in RFC 3501's modified UTF-7: ASCII as is, ``&`` as ``&-``, the rest ``&base64-``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in text:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


_FETCH_UID = re.compile(rb"\bUID (\d+)")
_FETCH_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def _bodies(data: list[object]) -> dict[int, bytes]:
    """Map UID -> body from an imaplib FETCH answer (UID may come before or after the literal)."""
    bodies: dict[int, bytes] = {}
    for index, item in enumerate(data):
        if not (isinstance(item, tuple) and len(item) == 2):
            continue
        header, body = item
        after = data[index + 1] if index + 1 < len(data) else b""
        match = _FETCH_UID.search(header) or (
            _FETCH_UID.search(after) if isinstance(after, bytes) else None
        )
        if match is not None and isinstance(body, bytes):
            bodies[int(match.group(1))] = body
    return bodies


def _peer_address(imap: imaplib.IMAP4) -> str:
    """The address the connection actually goes to ('' when the socket cannot say)."""
    try:
        peer = imap.sock.getpeername()
    except (OSError, AttributeError):
        return ""
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


# Verification codes (X509_V_ERR_*) of an issuer not in the trust store: ca_file is the cure.
_UNKNOWN_ISSUER = {18, 19, 20, 21}


def _tls_failure(error: ssl.SSLError, during: str = "") -> str:
    """One line on a failed handshake: the certificate's problem, or the TLS reason."""
    prefix = f"TLS failed after {during}" if during else "TLS failed"
    if isinstance(error, ssl.SSLCertVerificationError):
        detail = str(error.verify_message or error.reason or "verification failed").rstrip(".")
        hint = (
            "; name the CA that signed it in ca_file"
            if error.verify_code in _UNKNOWN_ISSUER
            else ""
        )
        return f"{prefix}: certificate not trusted: {detail}{hint}"
    return f"{prefix}: {error.reason or _describe(error)}"


def _size(limit: int) -> str:
    return f"{limit >> 20} MB" if limit >= 1 << 20 else f"{limit:,} bytes"


def _describe(error: BaseException) -> str:
    text = str(error.strerror) if isinstance(error, OSError) and error.strerror else str(error)
    if text.startswith(("b'", 'b"')):
        text = text[2:-1]
    return text or type(error).__name__


def _text(data: object) -> str:
    if isinstance(data, list) and data and isinstance(data[0], bytes):
        return data[0].decode("utf-8", "replace")
    return str(data)
