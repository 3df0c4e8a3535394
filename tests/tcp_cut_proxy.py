"""A TCP proxy on 127.0.0.1 that can cut a connection part-way through what the server sends:
an IMAP connection dropped mid-fetch, for the e-mail channel's tests.

`cut_after = N` makes the next connection close (both sides) once N bytes have come from the
server; later connections pass untouched. Threads are daemons and sockets time out, so nothing
outlives the test by more than a few seconds; `close()` stops listening.
"""

from __future__ import annotations

import contextlib
import socket
import threading

IO_TIMEOUT = 10.0


class CuttingProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.cut_after: int | None = None
        self.cuts = 0  # connections cut so far
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="cut-proxy")
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            limit, self.cut_after = self.cut_after, None
            threading.Thread(target=self._serve, args=(client, limit), daemon=True).start()

    def _serve(self, client: socket.socket, limit: int | None) -> None:
        try:
            server = socket.create_connection(("127.0.0.1", self.upstream_port), IO_TIMEOUT)
        except OSError:
            client.close()
            return
        client.settimeout(IO_TIMEOUT)
        server.settimeout(IO_TIMEOUT)

        def close_both() -> None:
            for sock in (client, server):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

        def upstream() -> None:
            with contextlib.suppress(OSError):
                while data := client.recv(65536):
                    server.sendall(data)
            close_both()

        threading.Thread(target=upstream, daemon=True).start()
        sent = 0
        with contextlib.suppress(OSError):
            while data := server.recv(65536):
                if limit is not None and sent + len(data) > limit:
                    client.sendall(data[: limit - sent])
                    self.cuts += 1
                    break
                client.sendall(data)
                sent += len(data)
        close_both()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=IO_TIMEOUT)

    def __enter__(self) -> CuttingProxy:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
