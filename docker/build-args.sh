#!/usr/bin/env bash
# The images' build arguments, one KEY=VALUE a line: the version the package is built as (and
# the image labelled with), the commit, and the sha256 of uv.lock. One script for both callers:
# docker/images-smoke.sh (`make images-smoke`) and the release workflow (`make image-build-args`).
#   RELEASE_TAG=v1.2.0  -> VERSION=1.2.0 (the release workflow passes the pushed tag)
#   otherwise           -> the version hatch-vcs gives this checkout (as `mlops --version` says)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${RELEASE_TAG:-}" ]]; then
  [[ "$RELEASE_TAG" =~ ^v[0-9]+\.[0-9]+\.[0-9]+([.+-][0-9A-Za-z.+-]*)?$ ]] \
    || { echo "RELEASE_TAG='$RELEASE_TAG': not a release tag vX.Y.Z" >&2; exit 1; }
  version=${RELEASE_TAG#v}
else
  version=$(uv run --frozen --quiet python -c \
    'from advanced_mlops.version import package_version; print(package_version())')
fi
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
lock=$(sha256sum uv.lock | cut -d' ' -f1)
printf 'VERSION=%s\nCOMMIT=%s\nUV_LOCK_SHA256=%s\n' "$version" "$commit" "$lock"
