#!/usr/bin/env bash
# Offline Data Docs: the pages Great Expectations 1.24.1 writes load bootstrap, jQuery, popper,
# bootstrap-table, bootstrap-datepicker, bootstrap-dark, font-awesome and vega/vega-lite/vega-embed
# from CDNs, and the index tables are filled by those scripts, so offline the index is empty.
# This fetches the same files from the npm registry (once) into the venv:
#   .venv/share/slmbench/datadocs/vendor/<package>-<version>/...   the library files
#   .venv/share/slmbench/datadocs/manifest.tsv                     CDN URL <TAB> file under vendor/
# The validate stage (`slmbench task-validate ... --docs DIR`) copies vendor/ into each site it builds and points the pages at those
# copies (stages/data/datadocs.py). Safe to rerun: skipped when the manifest is there and matches the table below.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.venv/share/slmbench/datadocs
MANIFEST=$OUT/manifest.tsv

# The URLs exactly as GX 1.24.1's templates write them (great_expectations/render/view/templates),
# the npm package that holds the same file, and its path in the package. vega@5, vega-lite@5 and
# vega-embed@6 are version ranges on the CDN: pinned here to the newest release in each range.
FILES=(
  "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css                                        bootstrap@4.3.1                   dist/css/bootstrap.min.css"
  "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js                                       bootstrap@4.3.1                   dist/js/bootstrap.min.js"
  "https://code.jquery.com/jquery-3.7.1.min.js                                                                  jquery@3.7.1                      dist/jquery.min.js"
  "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js                                    popper.js@1.12.9                  dist/umd/popper.min.js"
  "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css                                        bootstrap-table@1.19.1            dist/bootstrap-table.min.css"
  "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js                                         bootstrap-table@1.19.1            dist/bootstrap-table.min.js"
  "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js bootstrap-table@1.19.1           dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
  "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css   bootstrap-table@1.19.0            dist/extensions/filter-control/bootstrap-table-filter-control.css"
  "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css bootstrap-table@1.19.0          dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
  "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css           bootstrap-datepicker@1.9.0        dist/css/bootstrap-datepicker.min.css"
  "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js             bootstrap-datepicker@1.9.0        dist/js/bootstrap-datepicker.min.js"
  "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css            @forevolve/bootstrap-dark@1.1.0   dist/css/bootstrap-prefers-dark.css"
  "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css                                    @fortawesome/fontawesome-free@6.6.0 css/all.min.css"
  "https://cdn.jsdelivr.net/npm/vega@5                                                                          vega@5.33.1                       build/vega.min.js"
  "https://cdn.jsdelivr.net/npm/vega-lite@5                                                                     vega-lite@5.23.0                  build/vega-lite.min.js"
  "https://cdn.jsdelivr.net/npm/vega-embed@6                                                                    vega-embed@6.29.0                 build/vega-embed.min.js"
)
# Files the ones above load in turn: font-awesome's CSS reads its fonts from ../webfonts/ (woff2
# first, which every current browser reads, so the larger .ttf fallbacks are left out).
EXTRA=(
  "@fortawesome/fontawesome-free@6.6.0 webfonts/*.woff2"
)

dir_of() {  # npm spec -> folder name under vendor/: @scope/name@1.2.3 -> scope-name-1.2.3
  local spec=$1 name=${1%@*} version=${1##*@}
  name=${name#@}
  echo "${name//\//-}-$version"
}

# The manifest this table makes: a rerun after an edit to the table fetches again.
want=$(for line in "${FILES[@]}"; do set -- $line; printf '%s\t%s\n' "$1" "$(dir_of "$2")/$3"; done)
if [ ! -s "$MANIFEST" ] || [ "$(cat "$MANIFEST")" != "$want" ]; then
  command -v npm >/dev/null 2>&1 || { echo "datadocs.sh: npm is needed to fetch the Data Docs libraries" >&2; exit 1; }
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  mkdir -p "$tmp/vendor"
  specs=$(for line in "${FILES[@]}" "${EXTRA[@]}"; do
    set -- $line
    [ $# -eq 3 ] && echo "$2" || echo "$1"
  done | sort -u)
  for spec in $specs; do
    pack="$tmp/pack/$(dir_of "$spec")"
    mkdir -p "$pack"
    (cd "$pack" && npm pack --silent "$spec" >/dev/null)
    tar -xzf "$pack"/*.tgz -C "$pack"
  done
  : >"$tmp/manifest.tsv"
  copy() {  # copy <spec> <path in package>: one file into vendor/, keeping its path in the package
    local src="$tmp/pack/$(dir_of "$1")/package/$2" dest="$tmp/vendor/$(dir_of "$1")/$2"
    [ -f "$src" ] || { echo "datadocs.sh: $1 has no file $2" >&2; exit 1; }
    mkdir -p "$(dirname "$dest")"
    cp "$src" "$dest"
  }
  for line in "${FILES[@]}"; do
    set -- $line
    copy "$2" "$3"
    printf '%s\t%s\n' "$1" "$(dir_of "$2")/$3" >>"$tmp/manifest.tsv"
  done
  for line in "${EXTRA[@]}"; do
    set -f; set -- $line; set +f
    spec=$1 pattern=$2
    matched=0
    for src in "$tmp/pack/$(dir_of "$spec")/package/"$pattern; do
      [ -f "$src" ] || continue
      copy "$spec" "${src#"$tmp/pack/$(dir_of "$spec")/package/"}"
      matched=1
    done
    [ "$matched" = 1 ] || { echo "datadocs.sh: $spec has no files $pattern" >&2; exit 1; }
  done
  # Licences travel with the files.
  for spec in $specs; do
    for lic in "$tmp/pack/$(dir_of "$spec")/package/"LICENSE*; do
      [ -f "$lic" ] && cp "$lic" "$tmp/vendor/$(dir_of "$spec")/"
    done
  done
  rm -rf "$OUT.tmp"
  mkdir -p "$OUT.tmp"
  mv "$tmp/vendor" "$OUT.tmp/vendor"
  mv "$tmp/manifest.tsv" "$OUT.tmp/manifest.tsv"
  rm -rf "$OUT"
  mv "$OUT.tmp" "$OUT"
  echo "datadocs.sh: wrote $MANIFEST ($(wc -l <"$MANIFEST") CDN files) and $(du -sh "$OUT/vendor" | cut -f1) of libraries"
fi
