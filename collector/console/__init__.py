"""The web console: server-rendered pages for security reviewers, served by the collector under /console.

Plain HTML forms and one stylesheet: every page works without JavaScript, reads well with a screen reader, and the
collector needs no front-end build. `install(app)` adds the pages, the static files and the sign-in redirect.
"""

from __future__ import annotations

from collector.console.setup import install

__all__ = ["install"]
