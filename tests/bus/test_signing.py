"""Result signatures: what the engine signs, the orchestrator checks; anything else is not one."""

from __future__ import annotations

import pytest

from bus import ResultKeyError, ResultSigner, new_results_key


def test_a_signature_covers_exactly_the_bytes_and_the_key() -> None:
    signer, other = ResultSigner(new_results_key()), ResultSigner(new_results_key())
    data = b'{"runId":"r1","stepId":"a","status":"succeeded"}'
    signature = signer.sign(data)
    assert signer.verify(data, signature)
    assert not signer.verify(data.replace(b"succeeded", b"failed"), signature)
    assert not other.verify(data, signature)
    for forged in (None, "", "v1=", "v1=" + "0" * 64, signature.upper(), "é" * 10):
        assert not signer.verify(data, forged)


@pytest.mark.parametrize("key", ["", "not base64!", "c2hvcnQ=", "A" * 100])
def test_a_key_that_is_not_32_bytes_of_base64_is_refused_saying_what_to_set(key: str) -> None:
    with pytest.raises(ResultKeyError, match="AUTOMATEOS_RESULTS_KEY must be base64 of 32 random bytes"):
        ResultSigner(key)
