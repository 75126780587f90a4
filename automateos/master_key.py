"""The master key on this machine: made by `up` when none is set, and rotated on request."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from dotenv import dotenv_values

from bus import Bus, Cipher, CredentialStore, new_master_key
from bus.permissions import ROLES, new_password, password_variable
from bus.cipher import key_from_base64
from schemas.auth import new_token

from .settings import Settings

ENV_FILE = Path(".env")


def ensure_master_key(settings: Settings, env_file: Path = ENV_FILE) -> tuple[Settings, str | None]:
    """Settings with a master key. When none is set, a new one is written into .env; returns a notice then."""
    if settings.master_key or settings.master_password:
        return settings, None
    key = new_master_key()
    _write_env_line(env_file, "AUTOMATEOS_MASTER_KEY", key)
    notice = (f"generated a master key into {env_file.resolve()} (AUTOMATEOS_MASTER_KEY): keep that file, and give "
              "the same key to every gateway and engine; without it stored credentials cannot be read")
    return settings.with_overrides(master_key=key), notice


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
        _write_env_line(env_file, password_variable(role), passwords[role])
    notice = (f"generated NATS passwords for {', '.join(missing)} into {env_file.resolve()}: the broker allows "
              "only these users, each to its own subjects")
    return dataclasses.replace(settings, nats_passwords=passwords), notice


def remember_gateway_address(settings: Settings, env_file: Path = ENV_FILE) -> str | None:
    """Record the gateway's host and port in .env when it says otherwise (or nothing), so an `automateos` command in
    another terminal reaches the gateway `up` started; returns a notice then."""
    recorded = dotenv_values(env_file) if env_file.exists() else {}
    changed = []
    for name, value, default in (("AUTOMATEOS_HOST", settings.host, Settings.host),
                                 ("AUTOMATEOS_PORT", str(settings.port), str(Settings.port))):
        if recorded.get(name) != value and (name in recorded or value != default or name == "AUTOMATEOS_PORT"):
            _write_env_line(env_file, name, value)
            changed.append(f"{name}={value}")
    if not changed:
        return None
    return f"recorded {', '.join(changed)} in {env_file.resolve()}: automateos commands run here reach this gateway"


def _write_env_line(env_file: Path, name: str, value: str | None) -> None:
    """Set (or with None, remove) one variable in .env, readable by its owner only. Written to a new file that then
    replaces the old one: a write that fails halfway (a full disk) must not leave .env empty, since a missing master
    key would make every stored credential unreadable."""
    text = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    lines = [line for line in text.splitlines() if not re.match(rf"^#?\s*{name}=", line)]
    if value is not None:
        lines.append(f"{name}={value}")
    partial = env_file.with_name(f".{env_file.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o600)
        os.replace(partial, env_file)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


async def rotate_master_key(settings: Settings, nats_url: str, env_file: Path = ENV_FILE) -> str:
    """Re-encrypt every credential under a new key; returns a summary for the user.

    The new key is saved in .env (as AUTOMATEOS_MASTER_KEY_NEXT) before anything is re-encrypted, so an
    interrupted rotation loses nothing: running it again resumes with the same new key.
    """
    key_text = os.environ.get("AUTOMATEOS_MASTER_KEY_NEXT") or new_master_key()
    new = Cipher(key_from_base64(key_text))
    _write_env_line(env_file, "AUTOMATEOS_MASTER_KEY_NEXT", key_text)
    bus = await Bus.connect(nats_url, "credentials-rotate", settings.bus, give_up_after=10,
                            login=settings.nats_login("admin"))
    try:
        store = await CredentialStore.open(bus.credentials_kv, settings.master_key, settings.master_password,
                                           rotating_to=new)
        count = await store.rotate(new)
    finally:
        await bus.close()
    _write_env_line(env_file, "AUTOMATEOS_MASTER_KEY", key_text)
    _write_env_line(env_file, "AUTOMATEOS_MASTER_KEY_NEXT", None)
    _write_env_line(env_file, "AUTOMATEOS_MASTER_PASSWORD", None)
    return (f"re-encrypted {count} credential(s) under a new master key, saved in {env_file.resolve()} as "
            "AUTOMATEOS_MASTER_KEY.\nRestart every gateway and engine with it; until then they refuse to read "
            "or write credentials.")
