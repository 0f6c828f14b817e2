"""The web face: a FastAPI application serving a Chinese, server-rendered UI (Jinja2 + htmx) and a
JSON API, over the same services as the CLI. See docs/web.md."""
