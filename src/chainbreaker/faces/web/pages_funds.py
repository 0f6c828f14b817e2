"""Funds pages (资金链): screening results, one account with its statement rows, the trace view.

An account is named by its number (typed or pasted by the user, as on the command line), by its rank
in the last screening (the list links by rank) or by the opaque reference (``ref=r-…``) a dossier
links with: a role that sees account numbers masked never gets them in a link. A reference is
resolved here, on the server, and its opening is audited with the account it stands for (the funds
services audit the account as the caller sees it, masked). Queries, masking and the rest of the
audit are the funds services'.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from chainbreaker.core.errors import InputError
from chainbreaker.core.model.masking import mask_text
from chainbreaker.faces.web.access import ANALYSIS_ROLES, EXPORT_ROLES, allow, mask_role
from chainbreaker.faces.web.refs import RefBook
from chainbreaker.faces.web.render import page
from chainbreaker.ops.accounts import Principal

router = APIRouter(include_in_schema=False)
PAGE_ROWS = 200


# what RefBook.ref hands out: "r-" and unpadded URL-safe base64
REF_PATTERN = r"^r-[A-Za-z0-9_-]{16,256}$"


def _account(request: Request, account: str, rank: int | None, ref: str, principal: Principal) -> str:
    from chainbreaker.chains.funds.service import risk_account

    if ref:
        refs: RefBook = request.app.state.refs
        key = refs.resolve(ref)  # a forged or foreign reference: 404
        request.app.state.ws.audit("web.ref.open", user=principal.username, role=str(mask_role(principal)),
                                   kind="account", account=key, page=request.url.path)
        return key
    if account.strip():
        return account
    if rank is not None:
        return risk_account(request.app.state.ws, rank)
    raise InputError("请给出账号或筛查名次。", "Give an account number or a screening rank.")


def _amount(text: str) -> float | None:
    """The form's minimum transfer: empty (the form's default) means none."""
    if not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1e13:
        raise InputError(f"单笔最小金额“{text[:20]}”无效：请填 0 到 10 万亿之间的数，或留空。",
                         f"Min. transfer '{text[:20]}' is not valid: give a number from 0 to 1e13, or leave it empty.")
    return value


def _named(account: str, rank: int | None, ref: str) -> str | None:
    """How links on the page name the account again: the way the request named it (a rank or a
    reference stays one); None when it was typed."""
    if ref:
        return f"ref={ref}"
    if not account.strip() and rank is not None:
        return f"rank={rank}"
    return None


@router.get("/funds")
def funds_page(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.funds.service import screening_results

    rows = screening_results(request.app.state.ws, role=mask_role(principal), user=principal.username)
    return page(request, "funds.html", {"rows": rows, "may_export": principal.role in EXPORT_ROLES})


@router.get("/funds/account")
def account_page(request: Request, account: str = Query("", max_length=64), rank: int | None = Query(None, ge=1),
                 ref: str = Query("", max_length=260, pattern=REF_PATTERN), offset: int = Query(0, ge=0, le=10_000_000),
                 principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.funds.service import account_statement

    key = _account(request, account, rank, ref, principal)
    data = account_statement(request.app.state.ws, key, limit=PAGE_ROWS, offset=offset, role=mask_role(principal),
                             user=principal.username)
    return page(request, "funds_account.html", {"a": data, "ref": _named(account, rank, ref), "typed": account.strip()})


@router.get("/funds/trace")
def trace_page(request: Request, account: str = Query("", max_length=64), rank: int | None = Query(None, ge=1),
               ref: str = Query("", max_length=260, pattern=REF_PATTERN),
               direction: Literal["down", "up"] = "down", hops: int = Query(5, ge=1, le=10),
               min_amount: str = Query("", max_length=20),
               window_hours: float = Query(72, gt=0, le=24 * 365),
               principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.funds.service import trace_graph

    minimum = _amount(min_amount)
    form: dict[str, Any] = {"account": account, "rank": rank, "ref": ref, "direction": direction, "hops": hops,
                            "min_amount": minimum, "window_hours": window_hours}
    if not account.strip() and rank is None and not ref:
        return page(request, "funds_trace.html", {"form": form, "g": None})
    key = _account(request, account, rank, ref, principal)
    if ref:  # the form names the account as the caller may see it; the reference travels in a hidden field
        form["shown"] = mask_text(key, mask_role(principal), "card")
    graph = trace_graph(request.app.state.ws, key, direction=direction, hops=hops, min_amount=minimum,
                        window_hours=window_hours, role=mask_role(principal), user=principal.username)
    return page(request, "funds_trace.html", {"form": form, "g": graph, "per_hop": graph["per_hop"]})
