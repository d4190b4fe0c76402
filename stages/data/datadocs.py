"""The validate stage's `--docs DIR` (stages/data/gx.py) calls this: Data Docs that open offline, from file://.

The pages Great Expectations writes load their web libraries (bootstrap, jQuery, popper,
bootstrap-table, font-awesome, vega, ...) from CDNs and GX's logo from its asset bucket; the
index tables are filled in by those scripts, so without network the index is empty. After GX
builds a site, `make_offline` copies local copies of those libraries into the site
(static/vendor/) and points every page at them by relative path.

The libraries come from the npm registry, fetched once by `bash .ci/datadocs.sh` (which
`bash .ci/setup.sh` runs) into <venv>/share/slmbench/datadocs: vendor/ with the files, and
manifest.tsv mapping each CDN URL the GX templates write to its file under vendor/.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from pathlib import Path

from stages.core.errors import SLMBenchError

LIBRARIES = Path(sys.prefix) / "share" / "slmbench" / "datadocs"
SETUP = "bash .ci/setup.sh"
VENDOR = "static/vendor"  # in the site

# GX's own images come from its asset bucket (with a timestamp and the context's id in the query);
# the site carries its logo under static/images.
_GX_ASSET = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/[A-Za-z0-9_.-]+(?:\?[^\"'()\s]*)?")
GX_LOGO = "static/images/logo-long.png"
_ATTR = re.compile(r'\b(src|href)="([^"]*)"')
# Subresource integrity and CORS mode: a page opened from file:// has an opaque origin, and Chromium
# refuses a local script requested in CORS mode. The files are the same bytes as on the CDN.
_SRI = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"')
# What would still load from the network: scripts, stylesheets, icons and images, CSS url()s.
_REMOTE = re.compile(r'<(?:script|link|img)\b[^>]*?\b(?:src|href)="((?:https?:)?//[^"]+)"|url\(\s*[\'"]?((?:https?:)?//[^\'")\s]+)')


def libraries(root: Path = LIBRARIES) -> dict[str, Path]:
    """CDN URL -> local file, from the manifest .ci/datadocs.sh wrote; a one-line error if it is missing."""
    manifest = Path(root) / "manifest.tsv"
    if not manifest.is_file():
        raise SLMBenchError(f"{manifest}: the offline Data Docs libraries are not installed; run `{SETUP}` (it runs .ci/datadocs.sh)")
    out: dict[str, Path] = {}
    for lineno, line in enumerate(manifest.read_text(encoding="utf-8").splitlines(), start=1):
        url, _, rel = line.partition("\t")
        path = Path(root) / "vendor" / rel
        if not url or not rel or not path.is_file():
            raise SLMBenchError(f"{manifest}:{lineno}: expected 'URL<TAB>file under vendor/' naming an installed file; delete {root} and run `{SETUP}`")
        out[url] = path
    return out


def make_offline(site: Path, root: Path = LIBRARIES) -> None:
    """Copy the libraries into `site` and point its pages at them; fail if anything would still load remotely."""
    site = Path(site)
    urls = libraries(root)
    shutil.copytree(Path(root) / "vendor", site / VENDOR, dirs_exist_ok=True)
    local = {url: f"{VENDOR}/{path.relative_to(Path(root) / 'vendor').as_posix()}" for url, path in urls.items()}
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        page.write_text(rewrite(text, page.relative_to(site), local, site), encoding="utf-8")
    for css in sorted(p for p in (site / "static").rglob("*.css") if not p.is_relative_to(site / VENDOR)):
        text = css.read_text(encoding="utf-8")
        css.write_text(_GX_ASSET.sub(_up(css.relative_to(site)) + GX_LOGO, text), encoding="utf-8")
    own_css = [p for p in (site / "static").rglob("*.css") if not p.is_relative_to(site / VENDOR)]
    for path in sorted(site.rglob("*.html")) + sorted(own_css):
        if m := _REMOTE.search(path.read_text(encoding="utf-8")):
            url = m.group(1) or m.group(2)
            raise SLMBenchError(f"{path}: loads {url} from the network, which {Path(root) / 'manifest.tsv'} does not provide; add it to .ci/datadocs.sh")


def _up(rel: Path) -> str:
    """The relative prefix from a file at `rel` (relative to the site) back to the site's root."""
    return "../" * (len(rel.parts) - 1)


def rewrite(text: str, rel: Path, local: dict[str, str], site: Path) -> str:
    """One page, `rel` relative to the site: CDN URLs -> the local copies; GX's logo -> the site's own;
    a link into the site's static/ that does not resolve (GX writes the favicon one level short on
    validation pages) -> the right relative path."""
    up = _up(rel)

    def attr(m: re.Match[str]) -> str:
        name, value = m.group(1), m.group(2)
        if value in local:
            return f'{name}="{up}{local[value]}"'
        if "static/" in value and "://" not in value and not value.startswith("#"):
            target = os.path.normpath(os.path.join(os.path.dirname(rel.as_posix()), value))
            rest = value[value.index("static/") :]
            if not (site / target).exists() and (site / rest).exists():
                return f'{name}="{up}{rest}"'
        return m.group(0)

    text = _ATTR.sub(attr, text)
    text = _GX_ASSET.sub(up + GX_LOGO, text)
    return re.sub(r"<(script|link)\b[^>]*>", lambda m: _SRI.sub("", m.group(0)), text)
