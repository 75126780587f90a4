"""The `automateos` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import uvloop
from dotenv import load_dotenv

from .settings import Settings, SettingsError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="automateos", description="Workflow automation on NATS JetStream.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def nats_flag(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--nats-url", help="NATS server URL (env NATS_URL; default: the embedded server's)")

    up = commands.add_parser("up", help="start everything on this machine (embedded NATS unless NATS_URL is set)")
    up.add_argument("--host", help="gateway address (env AUTOMATEOS_HOST, default 127.0.0.1)")
    up.add_argument("--port", type=int, help="gateway port (env AUTOMATEOS_PORT, default 8080)")
    up.add_argument("--data-dir", type=Path, help="state directory (env AUTOMATEOS_DATA_DIR, default ./.automateos)")
    up.add_argument("--nats-port", type=int, help="embedded nats-server port (env AUTOMATEOS_NATS_PORT, default 4222)")
    up.add_argument("--concurrency", type=int, help="steps the engine worker runs at once (default 64)")
    nats_flag(up)

    gateway = commands.add_parser("gateway", help="run the gateway (REST, WebSocket, web builder)")
    gateway.add_argument("--host", help="address to listen on (env AUTOMATEOS_HOST)")
    gateway.add_argument("--port", type=int, help="port to listen on (env AUTOMATEOS_PORT)")
    nats_flag(gateway)

    orchestrator = commands.add_parser("orchestrator", help="run an orchestrator")
    nats_flag(orchestrator)

    engine = commands.add_parser("engine", help="run an engine worker; start more to scale")
    engine.add_argument("--concurrency", type=int, help="steps run at once by this process (default 64)")
    nats_flag(engine)

    credentials = commands.add_parser("credentials", help="manage the credential store's master key")
    credential_commands = credentials.add_subparsers(dest="credentials_command", required=True, metavar="ACTION")
    rotate = credential_commands.add_parser(
        "rotate-key", help="re-encrypt every credential under a new, random master key (saved in .env)")
    nats_flag(rotate)

    run = commands.add_parser("run", help="run a workflow file and print its progress live")
    run.add_argument("file", type=Path, help="workflow JSON (builder or template format)")
    run.add_argument("--input", action="append", default=[], metavar="KEY=VALUE", help="a run input; dots nest")
    run.add_argument("--set", action="append", default=[], metavar="NODE.FIELD=VALUE", help="override a node's config field")
    run.add_argument("--gateway", help="gateway URL (default http://AUTOMATEOS_HOST:AUTOMATEOS_PORT)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    load_dotenv(Path.cwd() / ".env")
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env().with_overrides(
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            data_dir=getattr(args, "data_dir", None),
            nats_port=getattr(args, "nats_port", None),
            nats_url=getattr(args, "nats_url", None),
            engine_concurrency=getattr(args, "concurrency", None),
        )
    except SettingsError as error:
        print(f"automateos: {error}", file=sys.stderr)
        return 2

    from .logs import setup_logging

    setup_logging(args.command, settings.log_level)
    if args.command == "up":
        from .master_key import ensure_admin_token, ensure_master_key
        from .up import up

        settings, notice = ensure_master_key(settings)
        settings, token_notice = ensure_admin_token(settings)
        for line in (notice, token_notice):
            if line:
                print(f"✓ {line}", flush=True)
        return up(settings)
    if args.command == "gateway" and not settings.admin_token:
        print("automateos gateway: no admin token: set AUTOMATEOS_ADMIN_TOKEN (16 or more random characters; "
              "`automateos up` writes one into .env)", file=sys.stderr)
        return 2
    if args.command in ("gateway", "engine") and not (settings.master_key or settings.master_password):
        print(f"automateos {args.command}: no master key for the credential store: set AUTOMATEOS_MASTER_KEY "
              "(base64 of 32 random bytes; `automateos up` writes one into .env) or AUTOMATEOS_MASTER_PASSWORD",
              file=sys.stderr)
        return 2
    if args.command == "credentials":
        from bus import DecryptionError, MasterKeyError

        from .master_key import rotate_master_key

        try:
            print(uvloop.run(rotate_master_key(settings, settings.nats_url or settings.embedded_nats_url)))
        except (MasterKeyError, DecryptionError) as error:
            print(f"automateos credentials: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "run":
        from .run_command import RunCommandError, parse_inputs, run_workflow

        try:
            return uvloop.run(run_workflow(args.file, args.gateway or settings.gateway_url, parse_inputs(args.input),
                                           args.set, settings.client_token))
        except RunCommandError as error:
            print(f"✗ {error}", file=sys.stderr)
            return 2
    from . import actors

    runner = {"gateway": actors.run_gateway, "orchestrator": actors.run_orchestrator, "engine": actors.run_engine}
    from bus import MasterKeyError

    try:
        uvloop.run(runner[args.command](settings))
    except KeyboardInterrupt:
        pass
    except MasterKeyError as error:
        print(f"automateos {args.command}: {error}", file=sys.stderr)
        return 2
    return 0
