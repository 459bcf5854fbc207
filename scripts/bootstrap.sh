#!/usr/bin/env bash
# Brings this checkout's own toolchain: pnpm (into .tools/) and, through the npm
# package `node`, Node 24 (into node_modules/.bin). Needs only some npm on PATH.
# Source it (`. scripts/bootstrap.sh`) to get both on PATH, or run it to just install.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$root/package.json")"

if ! command -v npm >/dev/null 2>&1; then
  echo "bootstrap: npm is needed to fetch pnpm and Node 24 (any Node >= 18 with npm will do)" >&2
  exit 1
fi

tools="$root/.tools"
if [ ! -x "$tools/node_modules/.bin/pnpm" ] || [ "$("$tools/node_modules/.bin/pnpm" --version 2>/dev/null)" != "$pnpm_version" ]; then
  echo "bootstrap: installing pnpm@$pnpm_version into .tools/" >&2
  npm install --silent --no-audit --no-fund --prefix "$tools" "pnpm@$pnpm_version" >&2
fi
export PATH="$root/node_modules/.bin:$tools/node_modules/.bin:$PATH"

lock_args=()
if [ -f "$root/pnpm-lock.yaml" ] && [ "${CI:-}" = "true" ]; then lock_args=(--frozen-lockfile); fi
if [ ! -x "$root/node_modules/.bin/node" ] || [ "$root/pnpm-lock.yaml" -nt "$root/node_modules/.modules.yaml" ] || [ "${KWATCH_FORCE_INSTALL:-}" = 1 ]; then
  echo "bootstrap: pnpm install" >&2
  (cd "$root" && pnpm install "${lock_args[@]}" --reporter=append-only >&2)
fi
echo "bootstrap: node $(node --version), pnpm $(pnpm --version)" >&2
