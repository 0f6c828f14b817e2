"""Funds pages (资金链): screening results, one account with its statement rows, the trace view.

An account is named either by its number (typed or pasted by the user, as on the command line) or by
its rank in the last screening: the list links by rank, so a role that sees account numbers masked
never gets them in a link. Queries, masking and audit are the funds services'.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from chainbreaker.core.errors import InputError
from chainbreaker.faces.web.access import ANALYSIS_ROLES, EXPORT_ROLES, allow, mask_role
from chainbreaker.faces.web.render import page
from chainbreaker.ops.accounts import Principal

router = APIRouter(include_in_schema=False)
PAGE_ROWS = 200


def _account(request: Request, account: str, rank: int | None) -> str:
    from chainbreaker.chains.funds.service import risk_account

    if account.strip():
        return account
    if rank is not None:
        return risk_account(request.app.state.ws, rank)
    raise InputError("请给出账号或筛查名次。", "Give an account number or a screening rank.")


@router.get("/funds")
def funds_page(request: Request, principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.funds.service import screening_results

    rows = screening_results(request.app.state.ws, role=mask_role(principal), user=principal.username)
    return page(request, "funds.html", {"rows": rows, "may_export": principal.role in EXPORT_ROLES})


@router.get("/funds/account")
def account_page(request: Request, account: str = Query("", max_length=64), rank: int | None = Query(None, ge=1),
                 offset: int = Query(0, ge=0, le=10_000_000),
                 principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.funds.service import account_statement

    key = _account(request, account, rank)
    data = account_statement(request.app.state.ws, key, limit=PAGE_ROWS, offset=offset, role=mask_role(principal),
                             user=principal.username)
    # links keep the way the account was named (a rank stays a rank)
    ref = f"rank={rank}" if not account.strip() and rank is not None else None
    return page(request, "funds_account.html", {"a": data, "ref": ref, "typed": account.strip()})


@router.get("/funds/trace")
def trace_page(request: Request, account: str = Query("", max_length=64), rank: int | None = Query(None, ge=1),
               direction: Literal["down", "up"] = "down", hops: int = Query(5, ge=1, le=10),
               min_amount: float | None = Query(None, ge=0, le=1e13),
               window_hours: float = Query(72, gt=0, le=24 * 365),
               principal: Principal = allow(*ANALYSIS_ROLES)) -> Response:
    from chainbreaker.chains.funds.service import trace_graph

    form: dict[str, Any] = {"account": account, "rank": rank, "direction": direction, "hops": hops,
                            "min_amount": min_amount, "window_hours": window_hours}
    if not account.strip() and rank is None:
        return page(request, "funds_trace.html", {"form": form, "g": None})
    key = _account(request, account, rank)
    graph = trace_graph(request.app.state.ws, key, direction=direction, hops=hops, min_amount=min_amount,
                        window_hours=window_hours, role=mask_role(principal), user=principal.username)
    return page(request, "funds_trace.html", {"form": form, "g": graph, "per_hop": graph["per_hop"]})
