"""The templates in examples/: every one compiles, and the order router runs both ways against a mock."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from automateos.settings import REPO_ROOT
from schemas import Workflow, compile_workflow
from tests.support.graphs import steps_by_id
from tests.support.mock_http import MockHttp, Reply
from tests.support.stack import Stack
from tests.test_credentials_e2e import add_credential

EXAMPLES = sorted((REPO_ROOT / "examples").glob("*.json"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_compiles(path: Path) -> None:
    dag = compile_workflow(TypeAdapter(Workflow).validate_json(path.read_bytes()))
    assert dag.steps[0].type == "start"


def order_router() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((REPO_ROOT / "examples" / "order-router.json").read_text())
    return document


async def test_order_router_posts_big_orders_to_slack(stack: Stack, mock_http: MockHttp) -> None:
    await add_credential(stack, "slackWebhookUrl", mock_http.url("/slack/T000/B000/secret-path"))
    mock_http.reply("/orders/A-1", Reply(status=200, body={"id": "A-1", "amount": 900}))
    mock_http.reply("/slack/T000/B000/secret-path", Reply(status=200, body="ok"))
    run_id = await stack.start_run(order_router(), inputs={"ordersApi": mock_http.url(""), "payload": {"orderId": "A-1"}})
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert record["status"] == "succeeded", record["error"]
    assert steps["notify_slack"]["status"] == "succeeded"
    assert steps["summary"]["status"] == steps["book_order"]["status"] == "skipped"
    assert mock_http.requests_to("/slack/T000/B000/secret-path")[0].json() == {"text": "Big order A-1: 900"}


async def test_order_router_books_small_orders_and_retries_the_booking(stack: Stack, mock_http: MockHttp) -> None:
    mock_http.reply("/orders/B-7", Reply(status=200, body={"id": "B-7", "amount": 80}))
    mock_http.reply("/fulfilment", Reply(status=503, body="try later"), Reply(status=201, body={"booked": True}))
    run_id = await stack.start_run(order_router(), inputs={"ordersApi": mock_http.url(""), "payload": {"orderId": "B-7"}})
    record = await stack.finish(run_id)
    steps = steps_by_id(record)
    assert record["status"] == "succeeded", record["error"]
    assert steps["notify_slack"]["status"] == "skipped" and steps["book_order"]["attempt"] == 2
    bookings = mock_http.requests_to("/fulfilment")
    assert [b.json() for b in bookings] == [{"orderId": "B-7", "amount": 80, "priority": "standard"}] * 2
    assert bookings[0].headers["Idempotency-Key"] == bookings[1].headers["Idempotency-Key"] == f"{run_id}-book_order"
