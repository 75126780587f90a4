"""The master key on this machine: made by `up` when none is set, and rotated on request."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from pathlib import Path

from dotenv import dotenv_values

from bus import Bus, Cipher, CredentialStore, MasterKeyError, new_master_key, new_results_key
from bus.permissions import ROLES, new_password, password_variable
from bus.cipher import key_from_base64
from schemas.auth import new_token

from .settings import Settings

ENV_FILE = Path(".env")


def ensure_master_key(settings: Settings, nats_url: str, env_file: Path = ENV_FILE) -> tuple[Settings, str | None]:
    """Settings with a master key. When none is set, a new one is written into .env; returns a notice then.

    Refuses (MasterKeyError, saying how to restore the key) when the credential store at `nats_url` already has a
    key check: a new key could not read what is stored, and writing one would hide that the old one is lost."""
    if settings.master_key or settings.master_password:
        return settings, None
    if asyncio.run(_store_has_key_check(settings, nats_url)):
        raise MasterKeyError(_restore_advice(env_file))
    key = new_master_key()
    _write_env_line(env_file, "AUTOMATEOS_MASTER_KEY", key)
    notice = (f"generated a master key into {env_file.resolve()} (AUTOMATEOS_MASTER_KEY): keep that file, and give "
              "the same key to every gateway and engine; without it stored credentials cannot be read")
    return settings.with_overrides(master_key=key), notice


def write_key_check(settings: Settings, nats_url: str) -> None:
    """As admin, the key check (and a password's salt) the actors check their key against, when there is none:
    only admin writes them, so no actor's role can (bus/permissions.py)."""
    if settings.master_key or settings.master_password:
        asyncio.run(_open_as_admin(settings, nats_url))


async def _open_as_admin(settings: Settings, nats_url: str) -> None:
    bus = await Bus.connect(nats_url, "key-check", settings.bus, give_up_after=10, login=settings.nats_login("admin"))
    try:
        await CredentialStore.open(bus.credentials_kv, settings.master_key, settings.master_password)
    finally:
        await bus.close()


async def _store_has_key_check(settings: Settings, nats_url: str) -> bool:
    bus = await Bus.connect(nats_url, "master-key-check", settings.bus, give_up_after=10,
                            login=settings.nats_login("admin"))
    try:
        return await CredentialStore.has_key_check(bus.credentials_kv)
    finally:
        await bus.close()


def _restore_advice(env_file: Path) -> str:
    backup = backup_of(env_file)
    recorded = dotenv_values(backup) if backup.exists() else {}
    found = [name for name in _KEY_VARIABLES if recorded.get(name)]
    where = (f"copy the {' and '.join(found)} line{'s' if len(found) > 1 else ''} from {backup.resolve()} into "
             f"{env_file.resolve()}, or " if found else "")
    return ("no master key is set, but the credential store already holds a key check, so its credentials were "
            "sealed with a key this machine no longer has; a new key would not read them, so none was generated. "
            f"Restore the key: {where}set AUTOMATEOS_MASTER_KEY (or AUTOMATEOS_MASTER_PASSWORD) to the key this "
            "system used, then run `automateos up` again. (To start afresh without those credentials, stop, move "
            "the data directory away and start again.)")


def ensure_admin_token(settings: Settings, env_file: Path = ENV_FILE) -> tuple[Settings, str | None]:
    """Settings with an admin token. When none is set, a new one is written into .env; returns a notice then."""
    if settings.admin_token:
        return settings, None
    token = new_token()
    _write_env_line(env_file, "AUTOMATEOS_ADMIN_TOKEN", token)
    notice = (f"generated an admin token into {env_file.resolve()} (AUTOMATEOS_ADMIN_TOKEN); `automateos` commands "
              "run here read it from there")
    return settings.with_overrides(admin_token=token), notice


def ensure_nats_passwords(settings: Settings, env_file: Path = ENV_FILE) -> tuple[Settings, str | None]:
    """Settings with a NATS password for every role (bus/permissions.py); missing ones are written into .env."""
    missing = [role for role in ROLES if not settings.nats_passwords.get(role)]
    if not missing:
        return settings, None
    passwords = dict(settings.nats_passwords)
    for role in missing:
        passwords[role] = new_password()
    _write_env(env_file, {password_variable(role): passwords[role] for role in missing})
    notice = (f"generated NATS passwords for {', '.join(missing)} into {env_file.resolve()}: the broker allows "
              "only these users, each to its own subjects")
    return dataclasses.replace(settings, nats_passwords=passwords), notice


def ensure_results_key(settings: Settings, env_file: Path = ENV_FILE) -> tuple[Settings, str | None]:
    """Settings with a key for signing step results (bus/signing.py); a new one is written into .env."""
    if settings.results_key:
        return settings, None
    key = new_results_key()
    _write_env(env_file, {"AUTOMATEOS_RESULTS_KEY": key})
    notice = (f"generated a results key into {env_file.resolve()} (AUTOMATEOS_RESULTS_KEY): engines sign what they "
              "report with it, and the orchestrator believes nothing unsigned")
    return dataclasses.replace(settings, results_key=key), notice


def remember_gateway_address(settings: Settings, env_file: Path = ENV_FILE) -> str | None:
    """Record the gateway's host and port in .env when it says otherwise (or nothing), so an `automateos` command in
    another terminal reaches the gateway `up` started; returns a notice then."""
    recorded = dotenv_values(env_file) if env_file.exists() else {}
    # The port always; the host only when it is not the default or .env names one already.
    wanted = {"AUTOMATEOS_PORT": str(settings.port)}
    if settings.host != Settings.host or "AUTOMATEOS_HOST" in recorded:
        wanted["AUTOMATEOS_HOST"] = settings.host
    changed: dict[str, str | None] = {name: value for name, value in wanted.items() if recorded.get(name) != value}
    if not changed:
        return None
    _write_env(env_file, changed)  # one replacement of .env, not one per variable
    shown = ", ".join(f"{name}={value}" for name, value in changed.items())
    return f"recorded {shown} in {env_file.resolve()}: automateos commands run here reach this gateway"


_KEY_VARIABLES = ("AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_MASTER_PASSWORD", "AUTOMATEOS_MASTER_KEY_NEXT")


class EnvWriteFailed(Exception):
    """.env could not be written (a full disk, a file size limit); it is as it was before."""

    def __init__(self, env_file: Path, error: OSError) -> None:
        super().__init__(f"could not write {env_file.resolve()}: {error.strerror or error}")


def backup_of(env_file: Path) -> Path:
    return env_file.with_name(f"{env_file.name}.bak")


def _write_env_line(env_file: Path, name: str, value: str | None) -> None:
    _write_env(env_file, {name: value})


def _write_env(env_file: Path, changes: dict[str, str | None]) -> None:
    """Set (or with None, remove) variables in .env, readable by its owner only, in one atomic replacement. The
    previous content is kept as .env.bak first. A write that fails halfway (a full disk) leaves .env as it was,
    never empty: a lost master key makes every stored credential unreadable."""
    previous = env_file.read_text(encoding="utf-8") if env_file.exists() else None
    text = previous or ""
    lines = [line for line in text.splitlines() if not any(re.match(rf"^#?\s*{n}=", line) for n in changes)]
    lines += [f"{name}={value}" for name, value in changes.items() if value is not None]
    try:
        if previous is not None and _keeps_backup(previous, backup_of(env_file)):
            _replace_file(backup_of(env_file), previous)
        _replace_file(env_file, "\n".join(lines) + "\n")
    except OSError as error:
        raise EnvWriteFailed(env_file, error) from error


def _keeps_backup(previous: str, backup: Path) -> bool:
    """Whether `previous` may replace the backup: never a backup holding a master key by content without one (an
    .env emptied by a failed write, then refilled by `up` with a new token and passwords, must not also cost the
    backup its key)."""
    if _has_key(previous) or not backup.exists():
        return True
    return not _has_key(backup.read_text(encoding="utf-8", errors="replace"))


def _has_key(text: str) -> bool:
    return any(re.match(rf"^\s*{name}=\S", line) for line in text.splitlines() for name in _KEY_VARIABLES)


def _replace_file(path: Path, text: str) -> None:
    """Write to a new file, fsync it, rename it over `path`, fsync the directory: after a crash or power loss
    `path` holds the old content or the new, whole."""
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    # The rename is durable only once the directory entry is on disk.
    directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


async def rotate_master_key(settings: Settings, nats_url: str, env_file: Path = ENV_FILE) -> str:
    """Re-encrypt every credential under a new key; returns a summary for the user.

    Each step can fail (a full disk, a power cut) and the command be run again to finish:
    1. the new key is saved in .env as AUTOMATEOS_MASTER_KEY_NEXT before anything is re-encrypted, and a rerun
       takes it from there rather than making another;
    2. each credential is re-encrypted under it, skipping those already done;
    3. the key check moves to the new key, last in the store, so until then the old key still opens it;
    4. .env gets the new key as AUTOMATEOS_MASTER_KEY, in one atomic write (the old one stays in .env.bak).
    """
    recorded = dotenv_values(env_file) if env_file.exists() else {}
    key_text = recorded.get("AUTOMATEOS_MASTER_KEY_NEXT") or os.environ.get("AUTOMATEOS_MASTER_KEY_NEXT") \
        or new_master_key()
    new = Cipher(key_from_base64(key_text))
    if recorded.get("AUTOMATEOS_MASTER_KEY_NEXT") != key_text:
        _write_env_line(env_file, "AUTOMATEOS_MASTER_KEY_NEXT", key_text)
    bus = await Bus.connect(nats_url, "credentials-rotate", settings.bus, give_up_after=10,
                            login=settings.nats_login("admin"))
    try:
        store = await CredentialStore.open(bus.credentials_kv, settings.master_key, settings.master_password,
                                           rotating_to=new)
        count = await store.rotate(new)
    finally:
        await bus.close()
    _write_env(env_file, {"AUTOMATEOS_MASTER_KEY": key_text, "AUTOMATEOS_MASTER_KEY_NEXT": None,
                          "AUTOMATEOS_MASTER_PASSWORD": None})
    return (f"re-encrypted {count} credential(s) under a new master key, saved in {env_file.resolve()} as "
            "AUTOMATEOS_MASTER_KEY (the previous .env is in .env.bak).\nRestart every gateway and engine with it; "
            "until then they refuse to read or write credentials.")
