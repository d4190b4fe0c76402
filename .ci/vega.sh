#!/usr/bin/env bash
# vega, vega-lite and vega-embed for the leaderboard's charts (site/, built by the leaderboard
# stage, stages/evaluate/site.py): the versions dvc_render pins (the same as .ci/plots.sh), fetched
# once from the npm registry with `npm pack` into the venv, from where the stage copies them into
# site/vendor/. The built site loads nothing from the internet. Each package's package.json is kept
# beside its file (version; BSD-3-Clause licences). Safe to rerun: skipped when the files are there.
set -euo pipefail
cd "$(dirname "$0")/.."
VEGA=5.20.2
VEGA_LITE=5.2.0
VEGA_EMBED=6.18.2
OUT=.venv/share/slmbench/vega
STAMP="vega-$VEGA vega-lite-$VEGA_LITE vega-embed-$VEGA_EMBED"

if [ ! -f "$OUT/versions" ] || [ "$(cat "$OUT/versions")" != "$STAMP" ]; then
  command -v npm >/dev/null 2>&1 || { echo "vega.sh: npm is needed to fetch vega" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "vega@$VEGA" "vega-lite@$VEGA_LITE" "vega-embed@$VEGA_EMBED" >/dev/null)
  rm -rf "$OUT.tmp" && mkdir -p "$OUT.tmp"
  for pkg in vega vega-lite vega-embed; do
    case $pkg in vega) v=$VEGA ;; vega-lite) v=$VEGA_LITE ;; vega-embed) v=$VEGA_EMBED ;; esac
    mkdir -p "$tmp/$pkg"
    tar -xzf "$tmp/$pkg-$v.tgz" -C "$tmp/$pkg"
    cp "$tmp/$pkg/package/build/$pkg.min.js" "$OUT.tmp/$pkg.min.js"
    cp "$tmp/$pkg/package/package.json" "$OUT.tmp/$pkg.package.json"
  done
  echo "$STAMP" >"$OUT.tmp/versions"
  rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
  echo "vega.sh: $STAMP in $OUT"
fi
