"""The approval page a wait step's resume URL shows (`GET /v1/resume/{token}`), and the pages that answer it.

Self-contained and script-free: one inline stylesheet, allowed by a nonce in a policy of the page's own that is
sent beside the gateway's (a browser applies both), which lets nothing else load or run: `default-src 'none'`.
Every value shown is HTML-escaped here, in one place; the message is the workflow author's rendered template,
which may carry anything a run's data did.
"""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime

from starlette.responses import HTMLResponse

_STYLE = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1f2328}
main{max-width:34rem;margin:3rem auto;padding:1.5rem 2rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}
h1{font-size:1.25rem;margin:0 0 .25rem}
.meta{color:#57606a;font-size:.875rem;margin:0 0 1rem}
.message{white-space:pre-wrap;overflow-wrap:anywhere;border-left:3px solid #b45309;padding:.25rem .75rem;margin:1rem 0}
label{display:block;font-size:.875rem;margin:1rem 0 .25rem}
textarea{width:100%;box-sizing:border-box;min-height:5rem;font:inherit}
.buttons{display:flex;gap:.75rem;margin-top:1rem}
button{font:inherit;padding:.5rem 1.25rem;border-radius:6px;border:1px solid #d0d7de;cursor:pointer}
.approve{background:#1a7f37;border-color:#1a7f37;color:#fff}
.reject{background:#fff;color:#cf222e;border-color:#cf222e}
.state{font-weight:600}
"""


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class Question:
    """What the page says about the step: whose it is, what it asks, until when."""

    workflow: str
    step: str
    message: str
    timeout_at: datetime | None


def _page(title: str, body: str, status: int) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    document = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                f'<meta name="viewport" content="width=device-width,initial-scale=1">'
                f'<meta name="robots" content="noindex"><title>{html.escape(title)} · AutomateOS</title>'
                f'<style nonce="{nonce}">{_STYLE}</style></head><body><main>{body}</main></body></html>')
    policy = (f"default-src 'none'; style-src 'nonce-{nonce}'; form-action 'self'; base-uri 'none'; "
              "frame-ancestors 'none'")
    # The state changes and the URL is a credential: nothing keeps a copy.
    headers = {"Content-Security-Policy": policy, "Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
    return HTMLResponse(document, status_code=status, headers=headers)


def _heading(question: Question) -> str:
    return (f"<h1>{html.escape(question.step)}</h1>"
            f'<p class="meta">Workflow {html.escape(question.workflow)}</p>')


def _message(question: Question) -> str:
    return f'<div class="message">{html.escape(question.message)}</div>' if question.message.strip() else ""


def approval_form(question: Question) -> HTMLResponse:
    """The question, and Approve / Reject: one form posted to this same address (the button pressed names the
    answer), so it works without a script."""
    until = (f'<p class="meta">Waits for an answer until <time datetime="{question.timeout_at.isoformat()}">'
             f"{_at(question.timeout_at)}</time>.</p>") if question.timeout_at is not None else ""
    form = ('<form method="post">'
            '<label for="comment">Comment (optional)</label>'
            '<textarea id="comment" name="comment" maxlength="4000"></textarea>'
            '<div class="buttons">'
            '<button class="approve" type="submit" name="approved" value="true">Approve</button>'
            '<button class="reject" type="submit" name="approved" value="false">Reject</button>'
            "</div></form>")
    return _page(f"Approve: {question.step}", _heading(question) + _message(question) + until + form, 200)


def answered(question: Question, state: str) -> HTMLResponse:
    """The page once there is nothing to answer: approved, rejected, timed out, or the run ended."""
    body = _heading(question) + _message(question) + f'<p class="state">{html.escape(state)}</p>'
    return _page(question.step, body, 200)


def thanks(question: Question, approved: bool) -> HTMLResponse:
    verdict = "approved" if approved else "rejected"
    body = _heading(question) + f'<p class="state">Thank you — {verdict}.</p><p class="meta">The workflow goes on.</p>'
    return _page(f"Thank you — {verdict}", body, 200)


def refusal(status: int, message: str) -> HTMLResponse:
    """A refusal, as a page, for a browser: an unknown link, or an answer that came too late."""
    title = {404: "Not found", 405: "Nothing to show here"}.get(status, "Not answered")
    return _page(title, f"<h1>{title}</h1><p>{html.escape(message[:1].upper() + message[1:])}.</p>", status)
