"""`automateos credentials rotate-key`, cut at one step: run as `python -m tests.support.rotate_with_fault FAULT ARGS…`.

FAULT is `write<N>` (the Nth file write of the command fails for real: RLIMIT_FSIZE is lowered just before it, so
the kernel refuses with EFBIG; SIGXFSZ is ignored so the process sees the error instead of dying of it),
`reencrypt<N>` (the process dies, os._exit, after re-encrypting N credentials), `keycheck` (it dies just before the
key check moves), or `none`.
"""

from __future__ import annotations

import os
import resource
import signal
import sys
from typing import Any

from nats.js.kv import KeyValue

from automateos import master_key
from automateos.cli import main
from bus import Cipher
from bus.credentials import CredentialStore

DIED = 75  # the exit status of a simulated power cut


def install(fault: str) -> None:
    if fault.startswith("write"):
        target = int(fault.removeprefix("write"))
        replace_file = master_key._replace_file
        writes = 0

        def limited(path: Any, text: str) -> None:
            nonlocal writes
            writes += 1
            if writes == target:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
                resource.setrlimit(resource.RLIMIT_FSIZE, (8, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
            replace_file(path, text)

        master_key._replace_file = limited
    elif fault.startswith("reencrypt"):
        left = int(fault.removeprefix("reencrypt"))
        update = KeyValue.update

        async def dying_update(self: KeyValue, key: str, *args: Any, **kwargs: Any) -> int:
            nonlocal left
            if key.startswith("c."):
                if left == 0:
                    os._exit(DIED)
                left -= 1
            return await update(self, key, *args, **kwargs)

        KeyValue.update = dying_update  # type: ignore[method-assign]
    elif fault == "keycheck":
        async def die(self: CredentialStore, new: Cipher) -> None:
            os._exit(DIED)

        CredentialStore._switch_key_check = die  # type: ignore[method-assign]


if __name__ == "__main__":
    install(sys.argv[1])
    sys.exit(main(["credentials", "rotate-key", *sys.argv[2:]]))
