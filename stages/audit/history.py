"""`slmbench compare` and `slmbench audit`: dataset versions side by side, and their history.

Everything at a git revision is read through DVC's own API (`dvc.api.DVCFileSystem` at `rev`,
the repo's `scm` for the list of commits and tags): the metrics files are git-tracked
(`cache: false`), so any commit or tag that ran the pipeline carries them. The workspace is
read from disk. A revision without a file is "not available", never a traceback.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from stages.core.errors import SLMBenchError
from stages.core.layout import dataset_paths, model_paths

WORKSPACE = "workspace"
# One headline score per model for tables and the history plot: the release artifact, decoded
# the way it is meant to be used; the first key present wins.
HEADLINE = ("gguf_q8_0.constrained", "gguf_q4.constrained", "hf_tuned.free", "gguf_base.constrained")
MODEL_METRICS = ("json_exact", "field_f1", "schema_valid")


def flatten(d: Any, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a nested mapping under dotted keys (booleans as 0/1); strings and lists are skipped."""
    out: dict[str, float] = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(d, bool):
        out[prefix[:-1]] = int(d)
    elif isinstance(d, (int, float)):
        out[prefix[:-1]] = d
    return out


@dataclass
class Snapshot:
    """The params and metrics files of one revision (or the workspace)."""

    root: Path
    rev: str | None  # None: the workspace
    _fs: Any = None
    _cache: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.rev or WORKSPACE

    def text(self, path: str) -> str | None:
        if path in self._cache:
            return self._cache[path]
        if self.rev is None:
            p = self.root / path
            value = p.read_text(encoding="utf-8") if p.is_file() else None
        else:
            from dvc.api import DVCFileSystem
            from dvc.exceptions import DvcException

            try:
                if self._fs is None:
                    self._fs = DVCFileSystem(str(self.root), rev=self.rev)
                value = self._fs.read_text(path)
            except (FileNotFoundError, IsADirectoryError):
                value = None
            except DvcException as exc:  # an unknown revision surfaces here, on the first read
                raise SLMBenchError(f"{self.rev}: {exc}") from None
        self._cache[path] = value
        return value

    def json(self, path: str) -> dict[str, Any] | None:
        raw = self.text(path)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise SLMBenchError(f"{path} at {self.label}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        return data if isinstance(data, dict) else None

    def first_json(self, paths: tuple[str, ...]) -> dict[str, Any] | None:
        """The first of `paths` this revision has (stages.core.layout names this layout's place, then the older one)."""
        for path in paths:
            data = self.json(path)
            if data is not None:
                return data
        return None

    def params(self) -> dict[str, Any]:
        raw = self.text("params.yaml")
        if raw is None:
            return {}
        try:
            data = yaml.safe_load(raw)
        except yaml.YAMLError:
            return {}
        return data if isinstance(data, dict) else {}

    def versions(self) -> list[str]:
        ds = self.params().get("datasets")
        return sorted(ds) if isinstance(ds, dict) else []

    def release(self) -> str | None:
        rel = self.params().get("release")
        return rel.get("dataset") if isinstance(rel, dict) else None

    def models(self) -> list[str]:
        m = self.params().get("models")
        return sorted(m) if isinstance(m, dict) else []

    def close(self) -> None:
        if self._fs is not None:
            with contextlib.suppress(Exception):
                self._fs.close()
            with contextlib.suppress(Exception):
                self._fs.fs.repo.close()
            self._fs = None


@contextlib.contextmanager
def snapshots(root: Path, revs: list[str | None]) -> Iterator[list[Snapshot]]:
    snaps = [Snapshot(Path(root), r) for r in revs]
    try:
        yield snaps
    finally:
        for s in snaps:
            s.close()


def version_metrics(snap: Snapshot, version: str) -> dict[str, float] | None:
    """Quality, split and (for models trained on this version at that revision) model metrics, flat."""
    q = snap.first_json(dataset_paths(version, "quality.json"))
    if q is None:
        return None
    out = {f"quality.{k}": v for k, v in flatten(q).items()}
    sp = snap.first_json(dataset_paths(version, "split.json")) or {}
    out.update({f"split.{k}": v for k, v in flatten(sp).items() if k in ("train_rows", "test_rows")})
    if snap.release() == version:
        for model in snap.models():
            # eval.json nests (`{variant: {decoding: figures}}`) since the one metrics layout, and was flat before: flat either way
            ev = flatten(snap.first_json(model_paths(model, "eval.json")) or {})
            out.update({f"{model}.{k}": v for k, v in ev.items() if ".tier_" not in k})
            tr = snap.first_json(model_paths(model, "train.json")) or {}
            out.update({f"{model}.train.{k}": v for k, v in flatten(tr).items()})
    return out


# ---------------------------------------------------------------------------------------------
# compare


def parse_spec(spec: str) -> tuple[str, str | None]:
    """`v3` (workspace) or `v3@REV` (a commit, tag or branch)."""
    version, _, rev = spec.partition("@")
    if not version or (_ and not rev):
        raise SLMBenchError(f"{spec!r}: expected VERSION or VERSION@REV, e.g. v3 or v2@edgejson-v2")
    return version, rev or None


def compare(root: Path, a: str, b: str) -> dict[str, Any]:
    """Both sides' flat metrics and the change; keys missing on one side are None ("n/a")."""
    (va, ra), (vb, rb) = parse_spec(a), parse_spec(b)
    notes: list[str] = []
    with snapshots(root, [ra, rb]) as (sa, sb):
        sides = []
        for spec, version, snap in ((a, va, sa), (b, vb, sb)):
            m = version_metrics(snap, version)
            if m is None:
                known = snap.versions()
                if snap.rev is None and version not in known:
                    raise SLMBenchError(f"unknown dataset version {version!r}; params.yaml defines {', '.join(known) or 'none'}")
                why = "not a version in its params.yaml" if version not in known else "no metrics at this revision (not built, or an older layout)"
                notes.append(f"{spec}: not available: {why}")
                m = {}
            sides.append(m)
    keys = sorted(set(sides[0]) | set(sides[1]), key=_key_order)
    rows = []
    for k in keys:
        x, y = sides[0].get(k), sides[1].get(k)
        delta = round(y - x, 6) if x is not None and y is not None else None
        rows.append({"metric": k, "a": x, "b": y, "change": delta})
    return {"a": a, "b": b, "rows": rows, "notes": notes}


def _key_order(k: str) -> tuple[int, str]:
    group = 0 if k.startswith("quality.") else 1 if k.startswith("split.") else 2
    return group, k


def _fmt(v: Any) -> str:
    if v is None:
        return "n/a"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _fmt_change(v: Any) -> str:
    return "n/a" if v is None else ("0" if v == 0 else f"{v:+.4g}")


def compare_table(result: dict[str, Any], md: bool, headline_only: bool = True) -> str:
    rows = result["rows"]
    if headline_only:
        rows = [r for r in rows if _is_headline(r["metric"])]
    header = ["metric", result["a"], result["b"], "change"]
    body = [[r["metric"], _fmt(r["a"]), _fmt(r["b"]), _fmt_change(r["change"])] for r in rows]
    lines = _table(header, body, md)
    lines += [f"note: {n}" for n in result["notes"]]
    return "\n".join(lines)


def _is_headline(k: str) -> bool:
    if k.startswith(("quality.rows_by_schema.", "quality.failures_by_check.", "quality.rows_by_tier.")):
        return False
    if k.startswith("quality.corrupt_by_schema."):
        return True
    if k.startswith(("quality.", "split.")):
        return True
    if ".train." in k:
        return k.endswith(".final_loss")
    return k.rsplit(".", 1)[-1] in MODEL_METRICS


def _table(header: list[str], body: list[list[str]], md: bool) -> list[str]:
    if md:
        return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in body]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body)]
    fmt = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    return [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in body]


# ---------------------------------------------------------------------------------------------
# audit


def audit_workspace(root: Path, params_path: Path, allow: list[str]) -> list[dict[str, Any]]:
    """Each version: its own gate's verdict, and what today's full suite finds in its accepted rows."""
    from stages.audit.check_data import check_rows
    from stages.core import params as P
    from stages.core.catalog import load_catalog, with_generated
    from stages.core.records import read_rows

    p = P.load(params_path)
    unknown = [a for a in allow if a not in p.datasets]
    if unknown:
        raise SLMBenchError(f"--allow {unknown[0]}: not a dataset version; params.yaml defines {', '.join(p.datasets)}")
    catalog = load_catalog(root / p.schemas_dir)
    out = []
    for version, recipe in p.datasets.items():
        snap = Snapshot(root, None)
        quality = snap.first_json(dataset_paths(version, "quality.json"))
        gate = snap.first_json(dataset_paths(version, "gate.json")) or {}
        accepted = root / "data" / version / "validated.jsonl"
        docs = root / dataset_paths(version, "data_docs")[0] / "index.html"
        entry: dict[str, Any] = {
            "version": version,
            "suite": gate.get("suite", recipe.suite),
            "gate_passed": None if quality is None else bool(quality.get("gate_passed")),
            "failed_expectations": gate.get("failed_expectations", []),
            "rows_accepted": None if quality is None else quality.get("rows_accepted"),
            "rows_regenerated": None if quality is None else quality.get("rows_regenerated"),
            "data_docs": str(docs.relative_to(root)) if docs.is_file() else None,
            "known_defect": recipe.known_defect or ("allowed with --allow" if version in allow else ""),
        }
        if accepted.is_file():
            generated = root / "data" / version / "generated_schemas.json"  # the version's generated training schemas, if it has any
            cat = with_generated(catalog, generated if generated.is_file() else None)
            rep = check_rows(read_rows(accepted), cat, "full", 0, (recipe.prompt_chars[0], recipe.prompt_chars[1]))
            entry.update(source="rechecked today", rows_checked=rep["rows"], corrupt_rows=rep["failed_rows"], corrupt_by_schema=rep["failed_by_schema"],
                         corrupt_by_check={c: n for c, n in rep["failures_by_check"].items() if n})
        elif quality is not None:
            entry.update(source="recorded at validation (data not in the workspace; run `dvc pull`)", rows_checked=quality.get("rows_accepted"),
                         corrupt_rows=quality.get("corrupt_rows_full_suite"), corrupt_by_schema={k: v for k, v in quality.get("corrupt_by_schema", {}).items() if v},
                         corrupt_by_check={k: v for k, v in quality.get("full_suite_failures_by_check", {}).items() if v})
        else:
            entry.update(source="not built (run `dvc repro` or `dvc pull`)", rows_checked=None, corrupt_rows=None, corrupt_by_schema={}, corrupt_by_check={})
        n = entry["rows_checked"] or 0
        entry["corrupt_rate"] = round(entry["corrupt_rows"] / n, 6) if entry["corrupt_rows"] is not None and n else None
        if entry["corrupt_rows"]:
            entry["status"] = "known defect" if entry["known_defect"] else "FAIL"
        else:
            entry["status"] = "clean" if entry["corrupt_rows"] == 0 else "not built"
        out.append(entry)
    return out


def list_revisions(root: Path, revisions: list[str]) -> list[tuple[str | None, str]]:
    """(rev, label) oldest first, the workspace last. `all`: every commit; otherwise the given revs."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        repo = Repo(str(root))
    except DvcException as exc:
        raise SLMBenchError(f"{root}: {exc}") from None
    try:
        from scmrepo.noscm import NoSCM

        scm = repo.scm
        if isinstance(scm, NoSCM) or scm.no_commits:
            return [(None, WORKSPACE)]
        if revisions == ["all"]:
            shas = list(scm.list_all_commits())
        else:
            shas = []
            for rev in revisions:
                try:
                    shas.append(scm.resolve_rev(rev))
                except Exception:
                    raise SLMBenchError(f"--revisions {rev}: unknown git revision") from None
        tags: dict[str, list[str]] = {}
        for tag in scm.list_tags():
            with contextlib.suppress(Exception):
                tags.setdefault(scm.resolve_rev(tag), []).append(tag)
        timed = sorted({s: scm.resolve_commit(s).commit_time for s in shas}.items(), key=lambda kv: (kv[1], kv[0]))
        out: list[tuple[str | None, str]] = [(s, s[:7] + (f" ({', '.join(sorted(tags[s]))})" if s in tags else "")) for s, _ in timed]
        return out + [(None, WORKSPACE)]
    finally:
        repo.close()


def history(root: Path, revisions: list[str]) -> list[dict[str, Any]]:
    """One row per (revision, version) as recorded at that revision, with the models' headline scores."""
    revs = list_revisions(root, revisions)
    rows = []
    with snapshots(root, [r for r, _ in revs]) as snaps:
        for (rev, label), snap in zip(revs, snaps):
            versions = snap.versions() or []
            release = snap.release()
            if not versions:
                rows.append({"revision": label, "version": None, "available": False})
                continue
            for version in versions:
                q = snap.first_json(dataset_paths(version, "quality.json"))
                row: dict[str, Any] = {"revision": label, "version": version, "available": q is not None, "release": version == release}
                if q is not None:
                    row.update(gate_passed=bool(q.get("gate_passed")), corrupt_rate=q.get("corrupt_rate_full_suite"), rows_regenerated=q.get("rows_regenerated"))
                if version == release:
                    for model in snap.models():
                        ev = flatten(snap.first_json(model_paths(model, "eval.json")) or {})  # nested or flat: dotted keys
                        head = next((h for h in HEADLINE if f"{h}.json_exact" in ev), None)
                        if head:
                            row["model"] = model
                            row["scored"] = head
                            row.update({m: ev.get(f"{head}.{m}") for m in MODEL_METRICS})
                            break
                rows.append(row)
    return rows


def history_plot(rows: list[dict[str, Any]], out: Path, template: str | None) -> Path:
    """Corrupt rate per version and the release model's scores over revisions, as a DVC-style vega HTML."""
    from dvc_render import VegaRenderer, render_html

    order = {r: i for i, r in enumerate(dict.fromkeys(row["revision"] for row in rows))}
    points = []
    for row in rows:
        if not row.get("available"):
            continue
        i = order[row["revision"]]
        points.append({"revision": i, "label": row["revision"], "rev": f"{row['version']} corrupt rate", "value": row["corrupt_rate"]})
        for m in ("json_exact", "field_f1"):
            if row.get(m) is not None:
                points.append({"revision": i, "label": row["revision"], "rev": f"release model {m} ({row['scored']})", "value": row[m]})
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    (out.with_suffix(".json")).write_text(json.dumps(points, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    renderer = VegaRenderer(points, "audit_history", template="linear", x="revision", y="value", title="Corrupt rate and release model scores over revisions (x: revision index, oldest first)")
    render_html([renderer], out, html_template=template)
    return out


def audit_text(entries: list[dict[str, Any]], hist: list[dict[str, Any]] | None, md: bool) -> str:
    header = ["version", "own suite", "own gate", "accepted", "regenerated", "corrupt today", "by check", "by schema", "status", "data docs"]
    body = []
    for e in entries:
        body.append([
            e["version"], str(e["suite"]), {True: "passed", False: "failed", None: "n/a"}[e["gate_passed"]], _fmt(e["rows_accepted"]), _fmt(e["rows_regenerated"]),
            "n/a" if e["corrupt_rows"] is None else f"{e['corrupt_rows']} ({e['corrupt_rate']:.1%})" if e["corrupt_rate"] is not None else str(e["corrupt_rows"]),
            ", ".join(f"{k} {v}" for k, v in e["corrupt_by_check"].items()) or "-",
            ", ".join(f"{k} {v}" for k, v in e["corrupt_by_schema"].items()) or "-",
            e["status"] + (f": {e['known_defect']}" if e["status"] == "known defect" else ""),
            e["data_docs"] or "not built",
        ])
    lines = _table(header, body, md)
    for e in entries:
        if e["failed_expectations"]:
            lines.append(f"{e['version']}: its gate failed: {'; '.join(e['failed_expectations'])}")
        lines.append(f"{e['version']}: corrupt figures {e['source']}")
    if hist is not None:
        lines += ["", "History (figures as recorded at each revision; oldest first):", ""]
        hb = []
        for r in hist:
            if not r.get("available"):
                hb.append([r["revision"], r["version"] or "-", "not available", "", "", "", "", ""])
                continue
            hb.append([r["revision"], r["version"] + (" (release)" if r.get("release") else ""), {True: "passed", False: "failed"}[r["gate_passed"]], _fmt(r["corrupt_rate"]), _fmt(r["rows_regenerated"]),
                       r.get("model", "-"), _fmt(r.get("json_exact")) if "model" in r else "-", _fmt(r.get("field_f1")) if "model" in r else "-"])
        lines += _table(["revision", "version", "own gate", "corrupt rate", "regenerated", "model", "json_exact", "field_f1"], hb, md)
    return "\n".join(lines)


def audit_failed(entries: list[dict[str, Any]]) -> list[str]:
    return [e["version"] for e in entries if e["status"] == "FAIL"]
