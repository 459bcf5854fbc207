#!/usr/bin/env bash
# `pnpm docs`: the API reference of every package's public exports, generated from their TSDoc by typedoc into
# docs/api/ (typedoc.json). Fails when an export has no documentation (typedoc's notDocumented validation), or when
# typedoc fails; other warnings (a link to something not exported) are shown but do not fail it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
typedoc --logLevel Warn 2>&1 | tee "$log" || status=$?
undocumented=$(grep -c 'does not have any documentation' "$log" || true)
if [ "$undocumented" != 0 ]; then
  echo "docs: $undocumented exported declarations have no documentation" >&2
  exit 1
fi
[ "$status" = 0 ] || exit "$status"
[ -f docs/api/index.html ] || { echo "docs: typedoc wrote no docs/api/index.html" >&2; exit 1; }
echo "docs: API reference in docs/api/index.html"
