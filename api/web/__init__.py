"""Server-rendered web pages (``api.web.pages``): ``create_app`` includes ``router`` at the root (not under
``/api``) when this package is present; ``mount_web(app)`` does the same for an app built otherwise."""

from __future__ import annotations

from fastapi import FastAPI

from api.web.pages import router

web_router = router


def mount_web(app: FastAPI) -> None:
    app.include_router(router)


__all__ = ["mount_web", "router", "web_router"]
