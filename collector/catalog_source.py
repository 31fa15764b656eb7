"""The AI tool catalog a collector process uses, replaced whole when the deployment's overlay files change.

Readers take `current` and use that object throughout a request: a reload swaps in a new Catalog rather than
changing the old one, so nobody sees half a reload.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from rules.catalog import Catalog, CatalogError, load_catalog

log = logging.getLogger(__name__)

# (path, modification time in ns, size) per overlay file; None for a file that cannot be read.
Stamp = tuple[tuple[str, int, int] | None, ...]


def stamp_files(paths: Sequence[Path]) -> Stamp:
    stamps: list[tuple[str, int, int] | None] = []
    for path in paths:
        try:
            status = path.stat()
        except OSError:
            stamps.append(None)
            continue
        stamps.append((str(path), status.st_mtime_ns, status.st_size))
    return tuple(stamps)


class CatalogSource:
    def __init__(self, overlays: Sequence[Path] = ()) -> None:
        self._overlays = tuple(overlays)
        self._lock = threading.Lock()
        # Stamped before loading: a file changed while it is read is seen as changed again on the next check.
        self._stamp = stamp_files(self._overlays)
        self._current = load_catalog(overlays=self._overlays)

    @property
    def current(self) -> Catalog:
        return self._current

    @property
    def overlays(self) -> tuple[Path, ...]:
        return self._overlays

    def reload_if_changed(self) -> bool:
        """Re-read the catalog when an overlay file changed; True when a new catalog is in use.

        Files that no longer load keep the previous catalog and log the problems once; the next change is tried
        again, so fixing the file is enough.
        """
        with self._lock:
            stamp = stamp_files(self._overlays)
            if stamp == self._stamp:
                return False
            self._stamp = stamp
            try:
                catalog = load_catalog(overlays=self._overlays)
            except CatalogError as error:
                # The problems, one `file:field: message` per line, say what to fix; a traceback would not.
                log.error(  # noqa: TRY400
                    "catalog overlay files changed but do not load; keeping the previous catalog:\n%s", error
                )
                return False
            self._current = catalog
        log.info("catalog reloaded: %d tools", len(catalog))
        return True
