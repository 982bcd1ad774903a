"""`harness view RUN_DIR [RUN_DIR2]`: browse runs in a local web UI, or `--export DIR` a static copy.

Serves on loopback by default; a port in use falls back to a free one (the URL is printed), and a
non-loopback `--host` prints a warning, since the viewer has no authentication. Starlette and
uvicorn come with the optional `view` extra; the export needs neither.
"""
from __future__ import annotations

import ipaddress
import socket
import sys
import threading
import webbrowser
from pathlib import Path

from harness.errors import HarnessError

DEFAULT_PORT = 8765


def register(commands) -> None:
    parser = commands.add_parser("view", help="browse one run (or diff two) in a local web UI; --export a static copy")
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR", help="one run, or baseline and candidate")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; busy: a free one)")
    parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1, loopback only)")
    parser.add_argument("--no-browser", action="store_true", help="do not open a browser")
    parser.add_argument("--export", type=Path, metavar="DIR", help="write a static folder (DIR/index.html) instead")
    parser.add_argument("--max-bytes", type=int, default=None,
                        help="--export: total response text kept (default 20000000); long responses are cut in the middle")
    parser.set_defaults(func=run)


def run(args) -> int:
    if len(args.runs) > 2:
        raise HarnessError(f"RUN_DIR: at most two runs (a baseline and a candidate), got {len(args.runs)}")
    if args.max_bytes is not None and args.export is None:
        raise HarnessError("--max-bytes: only with --export (the served UI shows whole responses)")
    if args.export is not None:
        from reports.view.export import DEFAULT_MAX_BYTES, export

        index = export(args.runs, args.export, args.max_bytes or DEFAULT_MAX_BYTES)
        print(f"wrote {index} (open it in a browser; no server needed)")
        return 0
    return serve(args)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), or on a free port when that one is taken."""
    if not 0 <= port <= 65535:
        raise HarnessError(f"--port {port}: must be between 0 and 65535")
    try:
        family = socket.getaddrinfo(host, None)[0][0]
    except socket.gaierror as exc:
        raise HarnessError(f"--host {host}: cannot resolve ({exc.strerror})") from None
    for candidate in (port, 0):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, candidate))
        except OSError as exc:
            sock.close()
            if candidate == 0:
                raise HarnessError(f"--host {host}: cannot listen ({exc.strerror})") from None
            print(f"port {port} is in use; using a free port instead", file=sys.stderr)
            continue
        sock.listen(128)
        return sock
    raise AssertionError("unreachable")


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(args) -> int:
    try:
        import uvicorn

        from reports.view.app import build_app
    except ImportError as exc:
        raise HarnessError(f"harness view needs the view extra ({exc.name} is missing): "
                           "pip install 'ssp-harness[view]'") from None
    app = build_app(args.runs)  # bad run directories fail here, before the port is taken
    if not is_loopback(args.host):
        print(f"warning: serving on {args.host}: anyone who can reach it can read these runs "
              "(the viewer has no authentication)", file=sys.stderr)
    sock = bind(args.host, args.port)
    url = url_of(sock)
    print(f"harness view: {url} (Ctrl-C to stop)", flush=True)
    if not args.no_browser:
        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])
    return 0
