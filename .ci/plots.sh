#!/usr/bin/env bash
# Offline `dvc plots show`: DVC's default HTML page loads vega, vega-lite and vega-embed from a
# CDN, so it is blank without internet. This takes the same versions dvc_render pins (fetched from
# the npm registry once by .ci/vega.sh, which the leaderboard uses too) and writes a
# self-contained page template with the three libraries inlined into the venv, then points this
# clone's DVC at it (.dvc/config.local, not committed).
# The template also records JavaScript errors and describes the drawn vega views in the DOM
# (see tests/dvc/test_plots_browser.py). Safe to rerun: skipped when the template exists.
set -euo pipefail
cd "$(dirname "$0")/.."
bash .ci/vega.sh  # dvc_render's VegaRenderer.SCRIPTS: vega 5, vega-lite 5, vega-embed 6
LIB=.venv/share/slmbench/vega
OUT=.venv/share/slmbench/plots
TEMPLATE=$OUT/template.html

if [ ! -s "$TEMPLATE" ]; then
  js() {  # an inline <script>; a "</script" inside the library would end it early
    if grep -qi '</script' "$1"; then echo "plots.sh: $1 contains </script" >&2; exit 1; fi
    printf '<script>/* %s */\n' "$2"
    cat "$1"
    printf '\n</script>\n'
  }
  mkdir -p "$OUT"
  {
    cat <<'EOF'
<!DOCTYPE html>
<html>
<head>
    <meta charset="utf-8">
    {refresh_tag}
    <title>DVC Plot</title>
    <script>
    /* SLMBench: record uncaught errors, failed loads, rejected promises and console.error, and
       once the plots have settled, describe what was drawn, in data attributes of the page body:
       data-js-errors, data-vega-calls (vegaEmbed calls, one per plot div), data-vega-embedded,
       data-vega-failed, data-vega-views (svg or canvas views in the page), data-vega-status
       (JSON, per plot: its id, its data mark items in vega's scenegraph and the non-white
       pixels or SVG elements of its view) and data-plots-done. Errors are also shown at the top of the
       page, in the element with id slmbench-js-errors. */
    (function () {
        var errors = [];
        var calls = 0, embedded = 0, failed = 0;
        var sceneMarks = {};
        function record(kind, what) {
            var text = what && (what.stack || what.message) ? (what.stack || what.message) : String(what);
            errors.push(kind + ": " + text);
        }
        window.addEventListener("error", function (e) {
            if (e.target && e.target !== window && (e.target.src || e.target.href)) {
                record("failed to load", e.target.src || e.target.href);
            } else {
                record("error", e.error || e.message);
            }
        }, true);
        window.addEventListener("unhandledrejection", function (e) { record("unhandled rejection", e.reason); });
        var consoleError = console.error;
        console.error = function () {
            record("console.error", Array.prototype.map.call(arguments, String).join(" "));
            return consoleError.apply(console, arguments);
        };
        function countMarks(mark) {  /* items of the data marks (lines, bars, points) of a scenegraph */
            var n = 0;
            if (!mark || !mark.items) return 0;
            if (mark.marktype !== "group" && mark.role === "mark") n += mark.items.length;
            for (var i = 0; i < mark.items.length; i++) {
                var item = mark.items[i];
                if (item && item.items) for (var j = 0; j < item.items.length; j++) n += countMarks(item.items[j]);
            }
            return n;
        }
        /* Called right after vega-embed is loaded: follow the embeds the plot divs start. */
        window.slmbenchWrapEmbed = function () {
            var embed = window.vegaEmbed;
            if (typeof embed !== "function") { record("error", "vegaEmbed is not loaded"); return; }
            var wrapped = function (el) {
                calls += 1;
                var done = embed.apply(this, arguments);
                Promise.resolve(done).then(function (result) {
                    embedded += 1;
                    try { sceneMarks[String(el).replace(/^#/, "")] = countMarks(result.view.scenegraph().root); }
                    catch (e) { record("error", e); }
                }, function () { failed += 1; });
                return done;
            };
            for (var key in embed) { if (Object.prototype.hasOwnProperty.call(embed, key)) wrapped[key] = embed[key]; }
            window.vegaEmbed = wrapped;
        };
        function ink(view) {  /* painted non-white pixels of a canvas view, elements of an SVG one */
            if (view.tagName.toLowerCase() !== "canvas") return view.querySelectorAll("path, rect, line, text").length;
            try {
                var data = view.getContext("2d").getImageData(0, 0, view.width, view.height).data;
                var n = 0;
                for (var i = 0; i < data.length; i += 4) {  /* not transparent, not the white background */
                    if (data[i + 3] > 0 && (data[i] < 240 || data[i + 1] < 240 || data[i + 2] < 240)) n += 1;
                }
                return n;
            } catch (e) { return -1; }
        }
        function report(done) {
            var body = document.body;
            var views = document.querySelectorAll(".vega-embed svg.marks, .vega-embed canvas.marks");
            if (done) {
                var status = [];
                for (var i = 0; i < views.length; i++) {
                    var host = views[i].closest(".vega-embed");
                    var id = host ? host.id : "";
                    status.push({id: id, marks: id in sceneMarks ? sceneMarks[id] : -1, ink: ink(views[i]),
                                 renderer: views[i].tagName.toLowerCase()});
                }
                body.dataset.vegaStatus = JSON.stringify(status);
            }
            body.dataset.jsErrors = String(errors.length);
            body.dataset.vegaCalls = String(calls);
            body.dataset.vegaEmbedded = String(embedded);
            body.dataset.vegaFailed = String(failed);
            body.dataset.vegaViews = String(views.length);
            body.dataset.plotsDone = done ? "1" : "0";
            var pre = document.getElementById("slmbench-js-errors");
            if (errors.length && !pre) {
                pre = document.createElement("pre");
                pre.id = "slmbench-js-errors";
                pre.style.cssText = "color:#b00;border:1px solid #b00;padding:8px;white-space:pre-wrap";
                body.insertBefore(pre, body.firstChild);
            }
            if (pre) pre.textContent = "JavaScript errors on this page:\n" + errors.join("\n");
            return views.length;
        }
        window.addEventListener("load", function () {
            var waited = 0;
            (function poll() {
                var settled = embedded + failed === calls;
                var views = report(false);
                if ((settled && views >= embedded) || waited >= 10000) {
                    /* one more frame, so a canvas is painted before it is read */
                    setTimeout(function () { report(true); }, 200);
                    return;
                }
                waited += 100;
                setTimeout(poll, 100);
            })();
        });
    })();
    </script>
EOF
    js "$LIB/vega.min.js" "vega ($(cat "$LIB/versions"))"
    js "$LIB/vega-lite.min.js" "vega-lite"
    js "$LIB/vega-embed.min.js" "vega-embed"
    cat <<'EOF'
    <script>window.slmbenchWrapEmbed();</script>
    <style>
        table {
            border-spacing: 15px;
        }
    </style>
</head>
<body>
    {plot_divs}
</body>
</html>
EOF
  } >"$TEMPLATE.tmp"
  mv "$TEMPLATE.tmp" "$TEMPLATE"
  echo "plots.sh: wrote $TEMPLATE ($(cat "$LIB/versions"))"
fi
# Relative to .dvc/; local config, so a clone without this setup keeps DVC's default page.
.venv/bin/dvc config --local plots.html_template ../.venv/share/slmbench/plots/template.html
