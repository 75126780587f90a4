"""Keys that cannot be lost: .env replaced atomically with a backup, `up` refusing to make a new master key for a
store that has one, and a key rotation that survives a failed write, or a power cut, at every step."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from automateos.master_key import _write_env, backup_of
from automateos.settings import REPO_ROOT
from bus import Bus, CredentialStore, EmbeddedNats, MasterKeyError, free_port, new_master_key
from bus.permissions import password_variable
from tests.support.rotate_with_fault import DIED
from tests.support.stack import NATS_PASSWORDS
from tests.test_cli import start_up, stop_up

VALUES = {f"cred{i}": f"secret-value-{i}-{'x' * i}" for i in range(6)}
FENCES = {"cred1": ["api.notion.com"], "cred4": ["*.slack.com", "127.0.0.1:9999"]}


def test_env_is_replaced_whole_with_the_previous_content_kept(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _write_env(env, {"AUTOMATEOS_MASTER_KEY": "k1", "OTHER": "a"})
    assert not backup_of(env).exists(), "nothing to back up yet"
    _write_env(env, {"OTHER": "b"})
    assert env.read_text() == "AUTOMATEOS_MASTER_KEY=k1\nOTHER=b\n"
    assert backup_of(env).read_text() == "AUTOMATEOS_MASTER_KEY=k1\nOTHER=a\n"
    assert stat.S_IMODE(env.stat().st_mode) == stat.S_IMODE(backup_of(env).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", ".env.bak"], "no temporary file left behind"


def test_a_backup_with_a_key_is_not_replaced_by_content_without_one(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _write_env(env, {"AUTOMATEOS_MASTER_KEY": "k1"})
    _write_env(env, {"AUTOMATEOS_ADMIN_TOKEN": "t1"})
    env.write_text("")  # what a failed in-place write used to leave
    _write_env(env, {"AUTOMATEOS_ADMIN_TOKEN": "t2"})
    _write_env(env, {"NATS_PASSWORD_ADMIN": "p"})
    assert dotenv_values(backup_of(env))["AUTOMATEOS_MASTER_KEY"] == "k1"


def test_a_write_that_fails_leaves_env_and_its_backup_as_they_were(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _write_env(env, {"AUTOMATEOS_MASTER_KEY": "k1"})
    _write_env(env, {"AUTOMATEOS_ADMIN_TOKEN": "t1"})
    before = (env.read_text(), backup_of(env).read_text())
    # A real failed write: the file size limit makes the kernel refuse it (EFBIG), as a full disk would (ENOSPC).
    script = ("import resource, signal, sys; from pathlib import Path; from automateos.master_key import _write_env; "
              "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); resource.setrlimit(resource.RLIMIT_FSIZE, (8, "
              "resource.getrlimit(resource.RLIMIT_FSIZE)[1])); _write_env(Path(sys.argv[1]), {'X': 'y' * 100})")
    result = subprocess.run([sys.executable, "-c", script, str(env)], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 1 and "EnvWriteFailed" in result.stderr and "File too large" in result.stderr
    assert (env.read_text(), backup_of(env).read_text()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", ".env.bak"]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "AUTOMATEOS_DATA_DIR": str(tmp_path), "AUTOMATEOS_PORT": str(free_port()),
           "AUTOMATEOS_NATS_PORT": str(free_port()), **extra}
    for name in ("NATS_URL", "AUTOMATEOS_MASTER_KEY", "AUTOMATEOS_MASTER_PASSWORD", "AUTOMATEOS_MASTER_KEY_NEXT",
                 "AUTOMATEOS_ADMIN_TOKEN", *(password_variable(role) for role in NATS_PASSWORDS)):
        env.pop(name, None)
    return env


async def test_up_refuses_a_new_master_key_for_a_store_that_has_one_and_says_how_to_restore_it(tmp_path: Path) -> None:
    env = _env(tmp_path)
    up, lines = await start_up(env)
    assert any("generated a master key" in line for line in lines), lines
    await stop_up(up)
    dotenv = tmp_path / ".env"
    key = dotenv_values(dotenv)["AUTOMATEOS_MASTER_KEY"]
    # A later change to .env (here: up recording another port) keeps the content with the key as .env.bak; then
    # the key is lost (what a failed in-place write used to do).
    _write_env(dotenv, {"AUTOMATEOS_PORT": env["AUTOMATEOS_PORT"]})
    dotenv.write_text("")

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "automateos", "up", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    async with asyncio.timeout(60):
        output = (await process.communicate())[0].decode()
    assert process.returncode == 1, output
    assert "the credential store already holds a key check" in output
    assert f"copy the AUTOMATEOS_MASTER_KEY line from {backup_of(dotenv).resolve()}" in output
    assert "set AUTOMATEOS_MASTER_KEY (or AUTOMATEOS_MASTER_PASSWORD)" in output
    assert key and "generated a master key" not in output and key not in output
    assert "AUTOMATEOS_MASTER_KEY" not in dotenv_values(dotenv), "no new key was written"
    assert dotenv_values(backup_of(dotenv))["AUTOMATEOS_MASTER_KEY"] == key

    with dotenv.open("a") as out:  # restored as the message says
        out.write(f"AUTOMATEOS_MASTER_KEY={key}\n")
    up, lines = await start_up(env)
    await stop_up(up)
    assert not any("generated a master key" in line for line in lines)


async def _stored_credentials(bus: Bus, key: str) -> CredentialStore:
    store = await CredentialStore.open(bus.credentials_kv, key, None)
    for name, value in VALUES.items():
        await store.create(name, value, None, FENCES.get(name))
    return store


def _rotate(fault: str, nats: EmbeddedNats, cwd: Path, key: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AUTOMATEOS_MASTER_KEY": key, "AUTOMATEOS_STEP_ACK_WAIT": "3",
           "AUTOMATEOS_DUPLICATE_WINDOW": "60", password_variable("admin"): NATS_PASSWORDS["admin"],
           "PYTHONPATH": str(REPO_ROOT)}
    for name in ("AUTOMATEOS_MASTER_KEY_NEXT", "AUTOMATEOS_MASTER_PASSWORD", "NATS_URL"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "tests.support.rotate_with_fault", fault, "--nats-url",
         f"nats://{nats.host}:{nats.port}"], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("fault", "status"), [
    ("write1", 1),  # saving the next key: the backup of .env fails
    ("write2", 1),  # saving the next key: .env itself fails
    ("reencrypt0", DIED),  # power cut before the first credential moves
    ("reencrypt3", DIED),  # ... halfway through
    ("keycheck", DIED),  # every credential moved, the key check not yet
    ("write3", 1),  # the key check moved; the backup of .env fails
    ("write4", 1),  # ... .env itself fails
])
async def test_a_key_rotation_cut_at_any_step_loses_nothing_and_a_rerun_finishes_it(
    nats_server: EmbeddedNats, bus: Bus, tmp_path: Path, fault: str, status: int
) -> None:
    old_key = new_master_key()
    await _stored_credentials(bus, old_key)
    dotenv = tmp_path / ".env"
    _write_env(dotenv, {"AUTOMATEOS_MASTER_KEY": old_key, "AUTOMATEOS_ADMIN_TOKEN": "t" * 32})

    cut = await asyncio.to_thread(_rotate, fault, nats_server, tmp_path, old_key)
    assert cut.returncode == status, cut.stdout + cut.stderr
    if status == 1:
        assert "could not write" in cut.stderr and "File too large" in cut.stderr
        assert "no credential was lost" in cut.stderr and "Traceback" not in cut.stderr
    recorded = dotenv_values(dotenv)
    assert recorded["AUTOMATEOS_MASTER_KEY"] == old_key, ".env still names the key the store opens with"
    saved_next = recorded.get("AUTOMATEOS_MASTER_KEY_NEXT")
    assert (saved_next is None) == (fault in ("write1", "write2")), "the next key is saved before anything moves"

    # The rerun reads .env as a user's shell would have it: the old key, and the next one if it was saved.
    done = await asyncio.to_thread(_rotate, "none", nats_server, tmp_path, old_key)
    assert done.returncode == 0, done.stdout + done.stderr
    final = dotenv_values(dotenv)
    assert "AUTOMATEOS_MASTER_KEY_NEXT" not in final and final["AUTOMATEOS_MASTER_KEY"] != old_key
    if saved_next is not None:
        assert final["AUTOMATEOS_MASTER_KEY"] == saved_next, "the rerun finished with the key saved, not a new one"
    assert dotenv_values(backup_of(dotenv))["AUTOMATEOS_MASTER_KEY"] == old_key, "the old key is kept in .env.bak"
    store = await CredentialStore.open(bus.credentials_kv, final["AUTOMATEOS_MASTER_KEY"], None)
    assert {name: await store.reveal_fenced(name) for name in VALUES} == {
        name: (value, FENCES.get(name, [])) for name, value in VALUES.items()}
    with pytest.raises(MasterKeyError):
        await CredentialStore.open(bus.credentials_kv, old_key, None)
