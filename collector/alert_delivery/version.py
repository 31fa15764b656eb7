"""The product version as channels report it (CEF Device Version, the webhook User-Agent)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Final


def product_version() -> str:
    try:
        return version("shadowscope")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0.0.0"


PRODUCT_VERSION: Final = product_version()
USER_AGENT: Final = f"ShadowScope/{PRODUCT_VERSION}"
