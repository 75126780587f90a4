"""A stand-in for a Discord channel's webhook, for trying the Stripe → Discord Bridge without Discord: it listens on
127.0.0.1:9999 (`--port`), prints what each request posts (a Discord message's `content`, else the body), and
answers 204 as Discord does.

    python examples/discord_sink.py
    # then store http://127.0.0.1:9999/discord as the credential discordWebhook

Standard library only; stop it with Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Sink(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (the name http.server calls)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        shown = body["content"] if isinstance(body, dict) and "content" in body else raw.decode(errors="replace")
        print(f"{self.command} {self.path}: {shown}", flush=True)
        self.send_response(204)
        self.end_headers()

    do_PUT = do_PATCH = do_POST

    def log_message(self, format: str, *args: object) -> None:  # the one line above says it all
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9999)
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer((args.host, args.port), _Sink)
    print(f"listening on http://{args.host}:{server.server_port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
