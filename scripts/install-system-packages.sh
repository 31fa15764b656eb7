#!/usr/bin/env bash
# System packages the tests use: PostgreSQL server binaries (a throwaway server per test run), tshark (the
# sensor's cross-checking backend) and Chromium (the browser extension's end-to-end test). Installed only when
# running as root and missing; otherwise the affected tests
# skip and say how to enable them.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v tshark >/dev/null 2>&1 || need+=(tshark)
# pdftoppm: the export tests render the board PDF's pages to images.
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
# chromium: the browser extension's end-to-end test drives it with the unpacked extension (Playwright, no download).
command -v chromium >/dev/null 2>&1 || need+=(chromium)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "note: ${need[*]} missing and not root; those tests will skip (run 'sudo apt-get install ${need[*]}')" >&2
  exit 0
fi
echo "installing ${need[*]} for the test suite" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the tests read files only, so no.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# Debian may start a cluster on install; the tests start their own, so the packaged one is not needed.
service postgresql stop >/dev/null 2>&1 || true
