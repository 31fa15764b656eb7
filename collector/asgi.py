"""Entry point for ASGI servers: `uvicorn --factory collector.asgi:app_from_environment`."""

from __future__ import annotations

from fastapi import FastAPI

from collector.app import create_app
from collector.settings import load_settings


def app_from_environment() -> FastAPI:
    return create_app(load_settings())
