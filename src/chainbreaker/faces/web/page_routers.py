"""The routers of the chain and casework pages (issue 14), in the order the app includes them; each
module holds one area's pages (funds, promotion, people, tech, cases)."""

from __future__ import annotations

from fastapi import APIRouter

from chainbreaker.faces.web import pages_cases, pages_funds, pages_people, pages_promotion, pages_tech

ROUTERS: tuple[APIRouter, ...] = (pages_funds.router, pages_promotion.router, pages_people.router, pages_tech.router,
                                  pages_cases.router)
