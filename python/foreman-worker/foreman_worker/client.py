"""The HTTP client a worker speaks to its coordinator with.

One keep-alive connection per thread (``http.client``), JSON bodies, and the protocol's
outcomes as exceptions: :class:`Unreachable` for what passes (network errors, 502/503/504),
:class:`Refused` for every other answer that is not a success. Calls that wait for work
(polls, final reports carrying ``next``) can be interrupted from another thread when the
worker stops.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
from typing import Any, cast
from urllib.parse import quote, urlsplit

USER_AGENT = "foreman-worker-python/0.1"

# Status codes that mean "try again later": the coordinator's 503, its 429 (this credential has too
# many requests open) and 408 (a request too slow to arrive), and a proxy's 502/504.
_PASSING = frozenset({408, 429, 502, 503, 504})
# Errors of a kept-alive connection the server closed meanwhile: send once more on a new one.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class Unreachable(Exception):
    """The coordinator could not be reached, or answered that it is unavailable for a moment."""


class Refused(Exception):
    """The coordinator answered with an error: its HTTP status, ``_tag`` and ``message``."""

    def __init__(self, status: int, tag: str, message: str) -> None:
        super().__init__(f"{status} {tag}: {message}" if tag else f"{status}: {message}")
        self.status = status
        self.tag = tag
        self.message = message


class Interrupted(Exception):
    """A waiting call was cut short because the worker is stopping."""


def path_part(text: str) -> str:
    """``text`` escaped as one segment of a URL path."""
    return quote(text, safe="")


class Client:
    """Calls ``<api_url>/api/v1<path>`` with JSON in and out."""

    def __init__(self, api_url: str, token: str | None, timeout: float) -> None:
        url = urlsplit(api_url)
        self._https = url.scheme == "https"
        self._host = url.hostname or ""
        self._port = url.port
        self._base = url.path.rstrip("/") + "/api/v1"
        self._timeout = timeout
        self._headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": USER_AGENT}
        if token is not None:
            self._headers["Authorization"] = f"Bearer {token}"
        self._local = threading.local()
        self._lock = threading.Lock()
        self._waiting: set[http.client.HTTPConnection] = set()
        self._interrupted = False

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        secret: str | None = None,
        timeout: float | None = None,
        interruptible: bool = False,
    ) -> Any:
        """Sends one request and returns the decoded JSON answer (``None`` when empty).

        Raises :class:`Unreachable`, :class:`Refused`, or :class:`Interrupted` (only when
        ``interruptible`` and :meth:`interrupt` was called).
        """
        payload = None if body is None else json.dumps(body, allow_nan=False, separators=(",", ":")).encode()
        headers = dict(self._headers)
        if secret is not None:
            headers["X-Foreman-Worker-Secret"] = secret
        status, data = self._exchange(method, self._base + path, payload, headers, timeout or self._timeout, interruptible)
        answer = _decode(data)
        if 200 <= status < 300:
            if answer is _NOT_JSON:
                raise Unreachable(f"{status} answer is not JSON: {data[:200]!r}")
            return answer
        refused = Refused(status, *_error_of(answer, data))
        if status in _PASSING:
            raise Unreachable(str(refused))
        raise refused

    def interrupt(self) -> None:
        """Cuts short the interruptible calls under way and refuses any later one (for stopping)."""
        with self._lock:
            self._interrupted = True
            for connection in self._waiting:
                if connection.sock is not None:
                    try:
                        connection.sock.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def _connection(self) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
        return connection

    def _exchange(
        self, method: str, target: str, payload: bytes | None, headers: dict[str, str], timeout: float, interruptible: bool
    ) -> tuple[int, bytes]:
        connection = self._connection()
        while True:
            reused = connection.sock is not None
            try:
                return self._send(connection, method, target, payload, headers, timeout, interruptible)
            except (OSError, http.client.HTTPException) as error:
                connection.close()
                # Only a reused connection may have gone stale; a fresh one failing is the coordinator's answer.
                if not (reused and isinstance(error, _STALE)) or (interruptible and self._interrupted):
                    raise self._failure(error, interruptible) from error

    def _send(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        payload: bytes | None,
        headers: dict[str, str],
        timeout: float,
        interruptible: bool,
    ) -> tuple[int, bytes]:
        if connection.sock is None:
            connection.timeout = self._timeout  # connecting takes no longer than any other call
            connection.connect()
        cast(socket.socket, connection.sock).settimeout(timeout)
        if interruptible:
            with self._lock:
                if self._interrupted:
                    raise Interrupted()
                self._waiting.add(connection)
        try:
            connection.request(method, target, body=payload, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            if interruptible:
                with self._lock:
                    self._waiting.discard(connection)
        if response.will_close:
            connection.close()
        return response.status, data

    def _failure(self, error: BaseException, interruptible: bool) -> Exception:
        if interruptible and self._interrupted:
            return Interrupted()
        return Unreachable(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)


_NOT_JSON = object()


def _decode(data: bytes) -> Any:
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except ValueError:
        return _NOT_JSON


def _error_of(answer: Any, data: bytes) -> tuple[str, str]:
    if isinstance(answer, dict):
        return str(answer.get("_tag", "")), str(answer.get("message", ""))
    return "", data[:500].decode(errors="replace")
