"""The master key on this machine: made by `up` when none is set, and rotated on request."""

from __future__ import annotations

import re
from pathlib import Path

from bus import Bus, Cipher, CredentialStore, new_master_key
from bus.cipher import key_from_base64

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


def _write_env_line(env_file: Path, name: str, value: str) -> None:
    text = env_file.read_text(encoding="utf-8") if env_file.exists() else ""
    line = f"{name}={value}"
    if re.search(rf"^{name}=.*$", text, flags=re.M):
        text = re.sub(rf"^{name}=.*$", line, text, flags=re.M)
    else:
        text = text + ("" if text.endswith("\n") or not text else "\n") + line + "\n"
    env_file.write_text(text, encoding="utf-8")
    env_file.chmod(0o600)


async def rotate_master_key(settings: Settings, nats_url: str, new_key: str | None, env_file: Path = ENV_FILE) -> str:
    """Re-encrypt every credential under a new key; returns a summary. .env gets the new key if it held the old."""
    bus = await Bus.connect(nats_url, "credentials-rotate", settings.bus, give_up_after=10)
    try:
        store = await CredentialStore.open(bus.credentials_kv, settings.master_key, settings.master_password)
        key_text = new_key or new_master_key()
        count = await store.rotate(Cipher(key_from_base64(key_text)))
    finally:
        await bus.close()
    where = "the environment"
    if env_file.exists() and re.search(r"^AUTOMATEOS_(MASTER_KEY|MASTER_PASSWORD)=", env_file.read_text(), flags=re.M):
        _write_env_line(env_file, "AUTOMATEOS_MASTER_KEY", key_text)
        text = re.sub(r"^AUTOMATEOS_MASTER_PASSWORD=", "# AUTOMATEOS_MASTER_PASSWORD=", env_file.read_text(), flags=re.M)
        env_file.write_text(text, encoding="utf-8")
        where = str(env_file.resolve())
    shown = "" if where != "the environment" else f"\n  AUTOMATEOS_MASTER_KEY={key_text}"
    return (f"re-encrypted {count} credential(s) under the new key; the new key is in {where}.{shown}\n"
            "Restart every gateway and engine with the new AUTOMATEOS_MASTER_KEY.")
