// The NLM's featuriser: text -> hashed feature ids. It must give exactly the ids of
// stages/inference/nlm_features.py, whose docstring is the specification; nlm.json's "features"
// carries the settings (buckets, word_ngrams, char_min, char_max, max_tokens, max_ids).

const FNV_OFFSET = 2166136261;
const FNV_PRIME = 16777619;
// Token characters: a-z, 0-9, U+00C0-U+1FFF, U+2070-U+2FFF, U+3040-U+10FFFF (code points: the u flag).
const TOKEN = /[a-z0-9\u00c0-\u1fff\u2070-\u2fff\u3040-\u{10ffff}]+/gu;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const UPPER = /[A-Z]/g;
const FEATURES_VERSION = 1;
const encoder = new TextEncoder();

export function fnv1a32(bytes) {
  let h = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) {
    h = Math.imul((h ^ bytes[i]) >>> 0, FNV_PRIME) >>> 0;
  }
  return h;
}

export function tokens(text, maxTokens) {
  const clean = String(text)
    .replace(LONE_SURROGATE, "\uFFFD")
    .replace(UPPER, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
  return (clean.match(TOKEN) || []).slice(0, maxTokens);
}

export function featureStrings(text, spec) {
  const toks = tokens(text, spec.max_tokens);
  const out = toks.map((t) => "w " + t);
  for (let n = 2; n <= spec.word_ngrams; n++) {
    for (let i = 0; i + n <= toks.length; i++) out.push("b " + toks.slice(i, i + n).join(" "));
  }
  if (spec.char_min > 0 && spec.char_max >= spec.char_min) {
    for (const t of toks) {
      const marked = Array.from("<" + t + ">"); // code points, as Python indexes a str
      for (let n = spec.char_min; n <= spec.char_max; n++) {
        for (let i = 0; i + n <= marked.length; i++) out.push("c " + marked.slice(i, i + n).join(""));
      }
    }
  }
  return out;
}

export class Featurizer {
  constructor(spec) {
    if (spec.version !== FEATURES_VERSION) {
      throw new Error(`featuriser version ${spec.version}; this page reads version ${FEATURES_VERSION}`);
    }
    this.spec = spec;
    this.cache = new Map();
  }

  ids(text) {
    const out = [];
    for (const f of featureStrings(text, this.spec).slice(0, this.spec.max_ids)) {
      let id = this.cache.get(f);
      if (id === undefined) {
        id = fnv1a32(encoder.encode(f)) % this.spec.buckets;
        this.cache.set(f, id);
      }
      out.push(id);
    }
    return out;
  }
}
