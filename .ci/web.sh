#!/usr/bin/env bash
# onnxruntime-web for the NLM's browser page (web/intent/): fetched once from the npm registry
# with `npm pack` (never a CDN at run time) into the venv, from where build_site
# (stages/tasks/intent/page.py) copies it into each built site. Only the wasm backend's three files
# are kept: ort.wasm.min.js (defines the global `ort`), and the glue module and binary it loads
# (ort-wasm-simd-threaded.mjs, .wasm), plus the package's package.json (version; MIT licence).
# Safe to rerun: skipped when the files are there.
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=1.30.0
OUT=.venv/share/slmbench/web
FILES=(ort.wasm.min.js ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.wasm)

have_all() {
  [ -f "$OUT/onnxruntime-web.version" ] && [ "$(cat "$OUT/onnxruntime-web.version")" = "$VERSION" ] || return 1
  for f in "${FILES[@]}"; do [ -s "$OUT/$f" ] || return 1; done
}

if ! have_all; then
  command -v npm >/dev/null 2>&1 || { echo "web.sh: npm is needed to fetch onnxruntime-web" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "onnxruntime-web@$VERSION" >/dev/null)
  tar -xzf "$tmp/onnxruntime-web-$VERSION.tgz" -C "$tmp"
  mkdir -p "$OUT"
  for f in "${FILES[@]}"; do cp "$tmp/package/dist/$f" "$OUT/$f"; done
  cp "$tmp/package/package.json" "$OUT/onnxruntime-web.package.json"
  echo "$VERSION" >"$OUT/onnxruntime-web.version"
  echo "web.sh: onnxruntime-web $VERSION in $OUT"
fi
