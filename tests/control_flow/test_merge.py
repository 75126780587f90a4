"""The merge step: after an If's two branches, and after parallel branches, in its three modes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.graphs import edge, graph, http, node, steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack


def after_if(mode: str, amount: int) -> dict[str, Any]:
    return graph(
        node("big", "if", condition=f"{amount} > 100"),
        node("vip", "set", values={"tier": "vip"}),
        node("normal", "set", values={"tier": "normal"}),
        node("join", "merge", mode=mode),
        node("after", "set", values={"merged": "{{ steps.join.output }}"}),
        edges=[edge("start", "big"), edge("big", "vip", "true"), edge("big", "normal", "false"),
               edge("vip", "join"), edge("normal", "join"), edge("join", "after")],
    )


@pytest.mark.parametrize(("mode", "expected"), [
    ("wait_all", {"normal": {"tier": "normal"}}),
    ("append", [{"tier": "normal"}]),
    ("first", {"normal": {"tier": "normal"}}),
])
async def test_a_merge_brings_an_ifs_branches_back_together(stack: Stack, mode: str, expected: Any) -> None:
    record = await stack.finish(await stack.start_run(after_if(mode, 20)))
    assert record["status"] == "succeeded", record["error"]
    steps = steps_by_id(record)
    assert steps["vip"]["status"] == "skipped" and steps["join"]["status"] == "succeeded"
    assert steps["join"]["output"] == expected
    assert steps["after"]["output"] == {"merged": expected}


def parallel(mock_http: MockHttp, mode: str) -> dict[str, Any]:
    return graph(
        http("fast", mock_http.url("/fast"), method="GET"),
        http("slow", mock_http.url("/slow"), method="GET"),
        node("join", "merge", mode=mode),
        http("after", mock_http.url("/after")),
        edges=[edge("start", "fast"), edge("start", "slow"), edge("fast", "join"), edge("slow", "join"),
               edge("join", "after")],
    )


async def test_wait_all_after_parallel_branches_has_both_outputs_by_step_id(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/fast", Reply(status=200, body={"who": "fast"}))
    mock_http.reply("/slow", Reply(status=200, body={"who": "slow"}, delay_s=0.5))
    record = await stack.finish(await stack.start_run(parallel(mock_http, "wait_all")))
    joined = steps_by_id(record)["join"]["output"]
    assert list(joined) == ["fast", "slow"] and joined["slow"]["body"] == {"who": "slow"}
    assert len(mock_http.requests_to("/after")) == 1


async def test_append_lists_the_outputs_in_edge_order(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/fast", Reply(status=200, body={"who": "fast"}, delay_s=0.3))
    mock_http.reply("/slow", Reply(status=200, body={"who": "slow"}))
    record = await stack.finish(await stack.start_run(parallel(mock_http, "append")))
    assert [o["body"]["who"] for o in steps_by_id(record)["join"]["output"]] == ["fast", "slow"]


async def test_first_goes_on_with_the_first_to_arrive_and_ignores_the_later_one(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/fast", Reply(status=200, body={"who": "fast"}))
    mock_http.reply("/slow", Reply(status=200, body={"who": "slow"}, delay_s=1.0))
    record = await stack.finish(await stack.start_run(parallel(mock_http, "first")))
    steps = steps_by_id(record)
    assert list(steps["join"]["output"]) == ["fast"]
    assert steps["slow"]["status"] == "succeeded", "the later branch still finished"
    assert len(mock_http.requests_to("/after")) == 1, "the merge went on once"
    assert steps["after"]["startedAt"] < steps["slow"]["finishedAt"], "it went on before the slow branch ended"
