"""The `automateos` command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from dotenv import load_dotenv

from .settings import DEFAULT_LAYOUT, LAYOUTS, Settings, SettingsError

T = TypeVar("T")

# The actors each command runs in its process: what it must be given is checked before anything starts.
ACTORS = {"gateway": ("gateway",), "orchestrator": ("orchestrator",), "engine": ("engine",),
          "stack": ("gateway", "orchestrator", "engine")}


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
    up.add_argument("--cluster", type=int, metavar="N", help="start N (3 or more) routed local nats-servers instead "
                    "of one, on ports from --nats-port up, with every stream and bucket replicated 3 times")
    up.add_argument("--layout", choices=LAYOUTS, help="processes: one process per actor; one-process: the gateway, "
                    "the orchestrator and one engine worker in one process (`automateos stack`), still separate actors "
                    f"on the bus (env AUTOMATEOS_LAYOUT, default {DEFAULT_LAYOUT})")
    up.add_argument("--engines", type=int, metavar="N", help="engine workers in all (default 1); with one-process, "
                    "the stack's own and N-1 engine processes")
    nats_flag(up)

    gateway = commands.add_parser("gateway", help="run the gateway (REST, WebSocket, web builder)")
    gateway.add_argument("--host", help="address to listen on (env AUTOMATEOS_HOST)")
    gateway.add_argument("--port", type=int, help="port to listen on (env AUTOMATEOS_PORT)")
    nats_flag(gateway)

    setup = commands.add_parser("setup", help="create or update the bus's streams, consumers and buckets "
                                "(`up` does it; run it once per deployment, before the actors)")
    setup.add_argument("--nats-url", help="NATS server(s) to set up (default: NATS_URL)")
    orchestrator = commands.add_parser("orchestrator", help="run an orchestrator")
    nats_flag(orchestrator)

    engine = commands.add_parser("engine", help="run an engine worker; start more to scale")
    engine.add_argument("--concurrency", type=int, help="steps run at once by this process (default 64)")
    nats_flag(engine)

    stack = commands.add_parser("stack", help="run the gateway, an orchestrator and an engine worker in this one "
                                "process (separate actors, each with its own NATS login); start engines to scale")
    stack.add_argument("--host", help="gateway address to listen on (env AUTOMATEOS_HOST)")
    stack.add_argument("--port", type=int, help="gateway port to listen on (env AUTOMATEOS_PORT)")
    stack.add_argument("--concurrency", type=int, help="steps the engine worker runs at once (default 64)")
    nats_flag(stack)

    credentials = commands.add_parser("credentials", help="manage the credential store's master key")
    credential_commands = credentials.add_subparsers(dest="credentials_command", required=True, metavar="ACTION")
    rotate = credential_commands.add_parser(
        "rotate-key", help="re-encrypt every credential under a new, random master key (saved in .env)")
    nats_flag(rotate)

    run = commands.add_parser("run", help="run a workflow file and print its progress live")
    run.add_argument("file", type=Path, help="workflow JSON (builder or template format)")
    run.add_argument("--input", action="append", default=[], metavar="KEY=VALUE", help="a run input; dots nest")
    run.add_argument("--set", action="append", default=[], metavar="NODE.FIELD=VALUE", help="override a node's config field")
    gateway_flag(run)

    cancel = commands.add_parser("cancel", help="cancel a run")
    cancel.add_argument("run_id", metavar="RUN_ID")
    gateway_flag(cancel)

    imported = commands.add_parser("import", help="convert an n8n workflow or a Node-RED flow (or an AutomateOS "
                                   "export) and print the report, node by node; --save keeps it as a new workflow")
    imported.add_argument("file", type=Path, help="the exported JSON")
    imported.add_argument("--save", action="store_true", help="save it as a new workflow")
    imported.add_argument("--source", choices=["n8n", "node-red", "automateos"], help="the format (default: detected)")
    gateway_flag(imported)

    workflows = commands.add_parser("workflows", help="saved workflows: list, push FILE, run NAME")
    workflow_commands = workflows.add_subparsers(dest="workflows_command", required=True, metavar="ACTION")
    gateway_flag(workflow_commands.add_parser("list", help="list saved workflows"))
    push = workflow_commands.add_parser("push", help="save FILE (a new version when its name is saved already)")
    push.add_argument("file", type=Path)
    gateway_flag(push)
    run_saved = workflow_commands.add_parser("run", help="run a saved workflow (its latest version) and follow it")
    run_saved.add_argument("name", metavar="NAME_OR_ID")
    run_saved.add_argument("--input", action="append", default=[], metavar="KEY=VALUE", help="a run input; dots nest")
    gateway_flag(run_saved)

    link = commands.add_parser("sign-in-link", help="print a new one-time link that signs a browser in (as the "
                               "token's user; it works once, within minutes)")
    gateway_flag(link)
    admin_token = commands.add_parser("admin-token", help="the admin token: rotate")
    admin_token_commands = admin_token.add_subparsers(dest="admin_token_command", required=True, metavar="ACTION")
    admin_token_commands.add_parser("rotate", help="write a new admin token into .env (then restart the gateway; "
                                    "sessions signed in with the old one end)")

    tokens = commands.add_parser("tokens", help="API tokens (as an admin): create, list, revoke")
    token_commands = tokens.add_subparsers(dest="tokens_command", required=True, metavar="ACTION")
    create = token_commands.add_parser("create", help="create a token; it is printed once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=["admin", "editor", "runner"])
    gateway_flag(create)
    gateway_flag(token_commands.add_parser("list", help="list tokens (names and roles, never the tokens)"))
    revoke = token_commands.add_parser("revoke", help="revoke a token by name")
    revoke.add_argument("name", metavar="NAME")
    gateway_flag(revoke)
    return parser


def _run(work: Coroutine[Any, Any, T]) -> T:
    """uvloop.run, with uvloop imported only by the commands that run a loop: not by `up`, which stays as long as the
    stack it supervises, and holds every module it imported."""
    import uvloop

    return uvloop.run(work)


def gateway_flag(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--gateway", help="gateway URL (default http://AUTOMATEOS_HOST:AUTOMATEOS_PORT); the token is "
                                       "AUTOMATEOS_TOKEN, else AUTOMATEOS_ADMIN_TOKEN (both read from .env too)")


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
            cluster_size=getattr(args, "cluster", None),
            layout=getattr(args, "layout", None),
            engines=getattr(args, "engines", None),
        )
    except SettingsError as error:
        print(f"automateos: {error}", file=sys.stderr)
        return 2

    from .logs import setup_logging

    setup_logging(args.command, settings.log_level)
    if args.command == "up":
        if settings.engines < 1:
            print("automateos up: --engines must be 1 or more", file=sys.stderr)
            return 2
        from .master_key import ensure_admin_token, ensure_nats_passwords, ensure_results_key, remember_gateway_address
        from .up import up

        # The master key is ensured by `up` itself, once the bus is up: see automateos/up.py.
        settings, token_notice = ensure_admin_token(settings)
        # The broker `up` starts admits only the roles' users; one it does not start is its operator's to secure.
        settings, nats_notice = (settings, None) if settings.nats_url else ensure_nats_passwords(settings)
        settings, results_notice = ensure_results_key(settings)
        address_notice = remember_gateway_address(settings)
        for line in (token_notice, nats_notice, results_notice, address_notice):
            if line:
                print(f"✓ {line}", flush=True)
        return up(settings)
    if args.command in ("sign-in-link", "admin-token"):
        from .sign_in import SignInLinkError, rotate_admin_token, sign_in_link

        if args.command == "admin-token":
            print(rotate_admin_token(), flush=True)
            return 0
        try:
            print(sign_in_link(args.gateway or settings.gateway_url, settings.client_token), flush=True)
        except SignInLinkError as error:
            print(f"✗ {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "setup":
        from bus import set_up_bus

        url = settings.nats_url or settings.embedded_nats_url
        _run(set_up_bus(url, settings.bus, login=settings.nats_login("admin")))
        print(f"✓ bus set up on {url}: streams, consumers and buckets, with this deployment's settings", flush=True)
        if settings.master_key or settings.master_password:
            from bus import MasterKeyError

            from .master_key import write_key_check

            try:
                write_key_check(settings, url)
            except MasterKeyError as error:
                print(f"automateos setup: {error}", file=sys.stderr)
                return 2
            print("✓ the credential store's key check is written (only admin writes it)", flush=True)
        return 0
    roles = ACTORS.get(args.command, ())
    if ("orchestrator" in roles or "engine" in roles) and settings.results_key:
        from bus import ResultKeyError, ResultSigner

        try:
            ResultSigner(settings.results_key)
        except ResultKeyError as error:
            print(f"automateos {args.command}: {error}", file=sys.stderr)
            return 2
    if "gateway" in roles and not settings.admin_token:
        print(f"automateos {args.command}: no admin token: set AUTOMATEOS_ADMIN_TOKEN (16 or more random characters; "
              "`automateos up` writes one into .env)", file=sys.stderr)
        return 2
    if ("gateway" in roles or "engine" in roles) and not (settings.master_key or settings.master_password):
        print(f"automateos {args.command}: no master key for the credential store: set AUTOMATEOS_MASTER_KEY "
              "(base64 of 32 random bytes; `automateos up` writes one into .env) or AUTOMATEOS_MASTER_PASSWORD",
              file=sys.stderr)
        return 2
    if args.command == "credentials":
        from bus import DecryptionError, MasterKeyError

        from .master_key import EnvWriteFailed, rotate_master_key

        try:
            print(_run(rotate_master_key(settings, settings.nats_url or settings.embedded_nats_url)))
        except (MasterKeyError, DecryptionError) as error:
            print(f"automateos credentials: {error}", file=sys.stderr)
            return 2
        except EnvWriteFailed as error:
            # Every step so far is kept, and a rerun takes it from there.
            print(f"automateos credentials: {error}; no credential was lost: free some space and run the command "
                  "again to finish", file=sys.stderr)
            return 1
        return 0
    if args.command in ("run", "cancel", "workflows", "tokens", "import"):
        from .api_client import CommandError
        from .interrupt import interruptible

        try:
            return _run(interruptible(_client_command(args, settings)))
        except CommandError as error:
            print(f"✗ {error}", file=sys.stderr)
            return 2
    from bus import MasterKeyError

    from . import actors, one_process

    runner = {"gateway": actors.run_gateway, "orchestrator": actors.run_orchestrator, "engine": actors.run_engine,
              "stack": one_process.run_stack}
    try:
        _run(runner[args.command](settings))
    except KeyboardInterrupt:
        pass
    except MasterKeyError as error:
        print(f"automateos {args.command}: {error}", file=sys.stderr)
        return 2
    return 0


async def _client_command(args: argparse.Namespace, settings: Settings) -> int:
    from . import import_command, token_commands, workflow_commands
    from .run_command import cancel_run, parse_inputs, run_workflow

    gateway, token = args.gateway or settings.gateway_url, settings.client_token
    if args.command == "run":
        return await run_workflow(args.file, gateway, parse_inputs(args.input), args.set, token)
    if args.command == "cancel":
        return await cancel_run(gateway, token, args.run_id)
    if args.command == "import":
        return await import_command.import_file(gateway, token, args.file, args.save, args.source)
    if args.command == "workflows":
        if args.workflows_command == "list":
            return await workflow_commands.list_workflows(gateway, token)
        if args.workflows_command == "push":
            return await workflow_commands.push_workflow(gateway, token, args.file)
        return await workflow_commands.run_saved(gateway, token, args.name, parse_inputs(args.input))
    if args.tokens_command == "create":
        return await token_commands.create_token(gateway, token, args.name, args.role)
    if args.tokens_command == "list":
        return await token_commands.list_tokens(gateway, token)
    return await token_commands.revoke_token(gateway, token, args.name)
