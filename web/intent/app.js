// The EdgeIntent NLM in the page: loads nlm.json and model.onnx from this folder, runs them with
// onnxruntime-web (wasm backend, one thread, its files served from this folder) and classifies
// what a person types as they type. Model strings reach the page only through textContent.
//
// For tests and scripts: window.nlm.ready (a promise: resolves when loaded, rejects with the load
// error), window.classifyAll(texts) -> {labels, latencies_ms} (one query at a time, each timed
// from text to label), window.featurizeAll(texts) -> the feature ids of each text.
// document.body.dataset.state is "loading", "ready" or "error".

import { Featurizer } from "./featurize.js";

const TOP = 5; // labels shown under the input
const $ = (id) => document.getElementById(id);

let config = null;
let session = null;
let featurizer = null;

function showError(message) {
  document.body.dataset.state = "error";
  const box = $("error");
  box.textContent = "The model could not be loaded: " + message;
  box.hidden = false;
  $("query").disabled = true;
  $("status").textContent = "Not loaded.";
}

async function fetchOk(name, as) {
  const resp = await fetch(name);
  if (!resp.ok) throw new Error(`${name}: HTTP ${resp.status} ${resp.statusText}`.trim());
  return as === "json" ? resp.json() : new Uint8Array(await resp.arrayBuffer());
}

async function load() {
  if (typeof ort === "undefined") throw new Error("onnxruntime-web (ort.wasm.min.js) did not load");
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.wasmPaths = new URL("./", document.baseURI).href; // the .mjs and .wasm beside this page
  config = await fetchOk("nlm.json", "json");
  featurizer = new Featurizer(config.features);
  const bytes = await fetchOk("model.onnx", "bytes");
  session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  const width = config.labels.length;
  $("status").textContent = `Ready: ${width} labels, ${(bytes.length / 1e6).toFixed(2)} MB model, running in this page.`;
  $("query").disabled = false;
  document.body.dataset.state = "ready";
}

function softmax(logits) {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const exps = Array.from(logits, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

// The label for one text: the argmax (first of ties), or oos_label when the top probability is
// below oos_threshold (the same rule as stages/inference/nlm_runtime.py), with the top labels.
async function classify(text) {
  const ids = featurizer.ids(text);
  const width = Math.max(1, ids.length);
  const idArr = new BigInt64Array(width);
  const mask = new Float32Array(width);
  ids.forEach((id, i) => {
    idArr[i] = BigInt(id);
    mask[i] = 1;
  });
  const out = await session.run({
    ids: new ort.Tensor("int64", idArr, [1, width]),
    mask: new ort.Tensor("float32", mask, [1, width]),
  });
  const probs = softmax(out.logits.data);
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i] > probs[best]) best = i;
  let label = config.labels[best];
  if (config.oos_label && config.oos_threshold > 0 && probs[best] < config.oos_threshold) label = config.oos_label;
  const top = probs
    .map((p, i) => [config.labels[i], p])
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP);
  return { label, top };
}

function render(result) {
  $("label").textContent = result.label;
  const list = $("top");
  list.replaceChildren();
  for (const [name, p] of result.top) {
    const item = document.createElement("li");
    const bar = document.createElement("span");
    bar.className = "bar";
    bar.style.width = `${Math.round(p * 100)}%`;
    const text = document.createElement("span");
    text.className = "name";
    text.textContent = `${name} ${(p * 100).toFixed(1)}%`;
    item.append(bar, text);
    list.append(item);
  }
}

let pending = Promise.resolve();
function onInput() {
  const text = $("query").value;
  pending = pending.then(async () => {
    if (!text.trim()) {
      $("label").textContent = "";
      $("top").replaceChildren();
      return;
    }
    const start = performance.now();
    const result = await classify(text);
    render(result);
    $("timing").textContent = `${(performance.now() - start).toFixed(1)} ms`;
  });
}

const ready = load();
window.nlm = { ready };
window.classifyAll = async (texts) => {
  await ready;
  const labels = [];
  const latencies = [];
  for (const text of texts) {
    const start = performance.now();
    labels.push((await classify(text)).label);
    latencies.push(performance.now() - start);
  }
  return { labels, latencies_ms: latencies };
};
window.featurizeAll = async (texts) => {
  await ready;
  return texts.map((t) => featurizer.ids(t));
};

ready.then(
  () => $("query").addEventListener("input", onInput),
  (err) => {
    showError(err && err.message ? err.message : String(err));
    console.error("nlm:", err);
  },
);
