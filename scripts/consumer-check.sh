#!/usr/bin/env bash
# The packages as an outside user gets them (needs `pnpm build` first). Packs every package under
# packages/ with pnpm (as publishing does), then, outside the workspace and with plain npm:
#   1. each tarball: LICENSE identical to the root one; no workspace:/catalog: specifier, no exact
#      version as a peer; README links absolute; a README `npm install` line naming every package
#      its example imports; `publint --strict`; `attw` (every entry point, every resolution mode).
#   2. a fresh project with every tarball and tfjs-core at the lowest version the peers claim, and
#      one with the @tensorflow/tfjs union instead: `npm install` must succeed with one copy of
#      tfjs-core; every README example (examples/*.ts, each shown verbatim in its README) is
#      type-checked under node16 and bundler resolution and run as ESM and as CJS (and, in the
#      first project, as an esbuild bundle); any error or "already registered" warning fails.
#      Every entry but the Node-only ones (`/node`, `/testing`, @pixelcnn/node-fs) bundles for the
#      browser (esbuild --platform=browser: no `node:` import reaches it).
#   3. @pixelcnn/backend next to vitest 3, 4 and 5: npm installs it without ERESOLVE, and a suite
#      using describeBackends with the published setup file passes there.
# Usage: scripts/consumer-check.sh   (KEEP=1 keeps the temp directory; QUICKDRAW_BASE_URL for the
# quickdraw example's data, default ../shared/quickdraw beside the repository).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=$ROOT/node_modules/.bin
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pixelcnn-consumer.XXXXXX")
[ -n "${KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
# Run as a user would: none of pnpm's npm_config_* settings leak into npm.
while read -r v; do unset "$v"; done < <(env | sed -n 's/^\(npm_config_[^=]*\)=.*/\1/p')
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
export QUICKDRAW_BASE_URL=${QUICKDRAW_BASE_URL:-$ROOT/../shared/quickdraw}
FAIL=0
fail() { echo "FAIL: $*"; FAIL=1; }
catalog() { sed -n "s|^  \"\{0,1\}$1\"\{0,1\}: *||p" pnpm-workspace.yaml; }
TS=$(catalog typescript)
TYPES_NODE=$(catalog @types/node)
# The lowest tfjs version the published peers claim (they must all claim the same range).
TFJS_RANGE=$(node -e '
  const fs = require("node:fs");
  const ranges = new Set(fs.readdirSync("packages").flatMap((d) => {
    const p = JSON.parse(fs.readFileSync(`packages/${d}/package.json`, "utf8"));
    return Object.entries(p.peerDependencies ?? {}).filter(([n]) => n.startsWith("@tensorflow/")).map(([, r]) => r);
  }));
  if (ranges.size !== 1) { console.error("tfjs peer ranges differ:", [...ranges]); process.exit(1); }
  console.log([...ranges][0]);')
TFJS_LOW=${TFJS_RANGE#^}
echo "work dir $WORK; tfjs peers $TFJS_RANGE (lowest: $TFJS_LOW); typescript $TS"

echo "=== pack"
mkdir -p "$WORK/packs"
PKGS=()
for dir in packages/*/; do
  dir=${dir%/}
  [ -d "$dir/dist" ] || { echo "$dir has no dist: run the build first"; exit 1; }
  (cd "$dir" && npx -y pnpm@12.21.0 pack --pack-destination "$WORK/packs" >/dev/null)
  PKGS+=("$(basename "$dir")")
done
TARBALLS=("$WORK"/packs/*.tgz)
ls -l "$WORK/packs" | tail -n +2

echo "=== tarballs: LICENSE, specifiers, README, publint --strict, attw"
for dir in "${PKGS[@]}"; do
  name=$(node -p "require('./packages/$dir/package.json').name")
  tgz=$WORK/packs/$(echo "${name#@}" | tr / -)-$(node -p "require('./packages/$dir/package.json').version").tgz
  x="$WORK/x/$dir"
  mkdir -p "$x" && tar -xzf "$tgz" -C "$x"
  cmp -s "$x/package/LICENSE" LICENSE || fail "$name: the tarball's LICENSE is missing or differs from the root LICENSE"
  node -e '
    const fs = require("node:fs");
    const [dir, name] = process.argv.slice(1);
    const p = JSON.parse(fs.readFileSync(`${dir}/package/package.json`, "utf8"));
    const bad = [];
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"])
      for (const [dep, spec] of Object.entries(p[field] ?? {})) {
        if (/^(workspace|catalog):/.test(spec)) bad.push(`${field}.${dep} is "${spec}" (publish with pnpm)`);
        if (field === "peerDependencies" && /^=?\d+\.\d+\.\d+$/.test(spec)) bad.push(`peer ${dep} is pinned to exactly ${spec}`);
      }
    for (const f of ["repository", "homepage", "bugs", "engines", "license"]) if (!p[f]) bad.push(`no "${f}"`);
    const readme = fs.readFileSync(`${dir}/package/README.md`, "utf8");
    const prose = readme.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, "");
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g))
      if (!/^(https?:|mailto:|#)/.test(m[1])) bad.push(`README link "${m[1]}" is relative (dead on a registry page)`);
    const exdir = `packages/${dir.split("/").pop()}/examples`;
    const example = fs.readdirSync(exdir).map((f) => fs.readFileSync(`${exdir}/${f}`, "utf8")).join("\n");
    const installs = [...readme.matchAll(/^npm install (.*)$/gm)].flatMap((m) => m[1].split(/\s+/));
    const installed = new Set(installs.map((s) => s.replace(/(.)@[^/]*$/, "$1")));
    for (const m of example.matchAll(/from '\''([^'\''.][^'\'']*)'\''/g)) {
      if (m[1].startsWith("node:")) continue;
      const pkg = m[1].split("/").slice(0, m[1].startsWith("@") ? 2 : 1).join("/");
      if (!installed.has(pkg)) bad.push(`the example imports ${pkg}, which no "npm install" line of the README names`);
    }
    for (const b of bad) console.log(`FAIL: ${name}: ${b}`);
    process.exit(bad.length ? 1 : 0);
  ' "$x" "$name" || FAIL=1
  "$BIN/publint" --strict "$tgz" >"$x/publint.log" 2>&1 || { cat "$x/publint.log"; fail "$name: publint --strict"; }
  # ./testing/setup is a vitest setupFiles entry with top-level await: ESM only, by design.
  exclude=()
  [ "$name" = @pixelcnn/backend ] && exclude=(--exclude-entrypoints ./testing/setup)
  "$BIN/attw" --pack "$tgz" --format table-flipped "${exclude[@]}" >"$x/attw.log" 2>&1 || { cat "$x/attw.log"; fail "$name: attw"; }
  echo "$name: checked ($(du -k "$tgz" | cut -f1) kB packed)"
done

# A fresh npm project outside the workspace with the tarballs and the given extra packages.
project() {
  local p=$WORK/$1
  shift
  mkdir -p "$p"
  echo '{ "name": "consumer", "version": "1.0.0", "private": true }' >"$p/package.json"
  (cd "$p" && npm install --loglevel=error "$@" >"$p/install.log" 2>&1) || {
    cat "$p/install.log"
    return 1
  }
}

# Every example, type-checked (node16, bundler) and run as ESM, CJS (and a bundle).
examples() {
  local p=$WORK/$1 bundle=$2
  mkdir -p "$p/ex"
  local src name
  for src in packages/*/examples/*.ts; do
    name=$(basename "$(dirname "$(dirname "$src")")")-$(basename "$src" .ts) # e.g. backend-readme
    cp "$src" "$p/ex/$name.mts"
    cp "$src" "$p/ex/$name.cts"
  done
  cat >"$p/tsconfig.json" <<EOF
{ "compilerOptions": { "module": "node16", "moduleResolution": "node16", "target": "es2022",
    "strict": true, "outDir": "out", "skipLibCheck": false },
  "include": ["ex"] }
EOF
  cat >"$p/tsconfig.bundler.json" <<EOF
{ "compilerOptions": { "module": "preserve", "moduleResolution": "bundler", "target": "es2022",
    "strict": true, "noEmit": true, "skipLibCheck": false },
  "include": ["ex/*.mts"] }
EOF
  (cd "$p" && npx tsc -p tsconfig.json) || fail "$1: tsc (node16) on the README examples"
  (cd "$p" && npx tsc -p tsconfig.bundler.json) || fail "$1: tsc (bundler) on the README examples"
  local runs=() f
  for f in "$p"/out/*.mjs "$p"/out/*.cjs; do runs+=("node ${f#"$p"/}"); done
  if [ "$bundle" = bundle ]; then
    mkdir -p "$p/as-pasted"
    for src in "$p"/ex/*.mts; do
      name=$(basename "$src" .mts)
      # As the README says: the code saved as example.ts, run with `npx tsx example.ts`.
      mkdir -p "$p/as-pasted/$name" && cp "$src" "$p/as-pasted/$name/example.ts"
      runs+=("npx tsx as-pasted/$name/example.ts")
      "$BIN/esbuild" "$src" --bundle --platform=node --format=esm --log-level=warning \
        "--external:@tensorflow/*" --external:webgpu --outfile="$p/bundle/$name.mjs" ||
        fail "$1: esbuild could not bundle the $name example"
      runs+=("node bundle/$name.mjs")
    done
  fi
  local run log t0
  for run in "${runs[@]}"; do
    log=$p/log-$(echo "$run" | tr ' /' '__').txt
    t0=$(date +%s)
    if (cd "$p" && timeout 600 $run >"$log" 2>&1); then
      if grep -qi 'already registered' "$log"; then
        grep -i -m3 'already registered' "$log"
        fail "$1: $run registered tfjs kernels twice (two copies of tfjs-core?)"
      else
        echo "$1: $run ok ($(( $(date +%s) - t0 ))s)"
      fi
    else
      tail -20 "$log" | cut -c1-400
      fail "$1: $run exited non-zero"
    fi
  done
}

# The entries a web page imports (every export but the Node-only ones: `./node`, `./testing*`,
# and @pixelcnn/node-fs, a Node-only package) bundle for the browser: any `node:` import, direct
# or through a dependency such as @pixelcnn/node-fs, fails esbuild's browser build.
browser_bundles() {
  local p=$WORK/$1 entry
  mkdir -p "$p/browser"
  for entry in $(cd "$p" && node -e '
    const fs = require("node:fs");
    for (const d of fs.readdirSync("node_modules/@pixelcnn")) {
      const pkg = JSON.parse(fs.readFileSync(`node_modules/@pixelcnn/${d}/package.json`, "utf8"));
      if (pkg.name === "@pixelcnn/node-fs") continue;
      for (const k of Object.keys(pkg.exports))
        if (!/^\.\/(node|testing|package\.json)/.test(k)) console.log(pkg.name + k.slice(1));
    }'); do
    echo "import * as m from '$entry'; console.log(Object.keys(m).length);" >"$p/browser/entry.mjs"
    if (cd "$p" && "$BIN/esbuild" browser/entry.mjs --bundle --platform=browser --format=esm \
      "--external:@tensorflow/*" --log-level=error --outfile=browser/out.js >browser/log.txt 2>&1); then
      echo "$1: $entry bundles for the browser"
    else
      grep -m3 'ERROR' "$p/browser/log.txt"
      fail "$1: $entry does not bundle for the browser (a node: import?)"
    fi
  done
}

one_core() {
  local n
  n=$(cd "$WORK/$1" && { npm ls --all --parseable @tensorflow/tfjs-core 2>/dev/null || true; } |
    grep -c 'node_modules/@tensorflow/tfjs-core$' || true)
  [ "$n" = 1 ] || { (cd "$WORK/$1" && npm ls --all @tensorflow/tfjs-core); fail "$1: $n copies of @tensorflow/tfjs-core"; }
}

echo "=== project with @tensorflow/tfjs-core@$TFJS_LOW"
if project core "${TARBALLS[@]}" "@tensorflow/tfjs-core@$TFJS_LOW" "typescript@$TS" "@types/node@$TYPES_NODE" "tsx@$(catalog tsx)"; then
  one_core core
  echo "core: node_modules $(du -sm "$WORK/core/node_modules" | cut -f1) MB"
  examples core bundle
  browser_bundles core
else
  fail "npm install of the tarballs with @tensorflow/tfjs-core@$TFJS_LOW"
fi

echo "=== project with the @tensorflow/tfjs@$TFJS_LOW union"
if project union "${TARBALLS[@]}" "@tensorflow/tfjs@$TFJS_LOW" "typescript@$TS" "@types/node@$TYPES_NODE"; then
  one_core union
  echo "union: node_modules $(du -sm "$WORK/union/node_modules" | cut -f1) MB"
  examples union no-bundle
else
  fail "npm install of the tarballs with @tensorflow/tfjs@$TFJS_LOW"
fi

backend_tgz=$(ls "$WORK"/packs/pixelcnn-backend-*.tgz)
echo "=== install size of @pixelcnn/backend (as its README says, and next to the union)"
for extra in "@tensorflow/tfjs-core@$TFJS_LOW" "@tensorflow/tfjs@$TFJS_LOW"; do
  if project size "$backend_tgz" "$extra"; then
    echo "@pixelcnn/backend + $extra: node_modules $(du -sm "$WORK/size/node_modules" | cut -f1) MB," \
      "$(cd "$WORK/size" && npm ls --all --parseable 2>/dev/null | grep -c node_modules) packages"
  else
    fail "npm install of @pixelcnn/backend with $extra"
  fi
  rm -rf "$WORK/size"
done

echo "=== @pixelcnn/backend/testing next to vitest 3, 4, 5"
for v in 3 4 5; do
  if project "vitest$v" "$backend_tgz" "@tensorflow/tfjs-core@$TFJS_LOW" "vitest@^$v"; then
    cat >"$WORK/vitest$v/vitest.config.mjs" <<'EOF'
export default { test: { setupFiles: ['@pixelcnn/backend/testing/setup'] } };
EOF
    cat >"$WORK/vitest$v/conv.test.mjs" <<'EOF'
import { describeBackends } from '@pixelcnn/backend/testing';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';

describeBackends(
  'conv weight gradient',
  () => {
    it('is 18 at every tap for ones over 2 images of 5x5', async () => {
      const x = tf.ones([2, 5, 5, 1]);
      const dw = tf.grad((f) => tf.sum(tf.conv2d(x, f, 1, 'valid')))(tf.zeros([3, 3, 1, 1]));
      expect(Array.from(await dw.data())).toEqual(new Array(9).fill(18));
    });
  },
  { kernels: ['Conv2DBackpropFilter'] },
);
EOF
    if (cd "$WORK/vitest$v" && npx vitest run --reporter=json --outputFile=report.json >vitest.log 2>&1) &&
      node -e 'const r = require(process.argv[1]); process.exit(r.numPassedTests === 2 && r.numPendingTests === 0 ? 0 : 1)' "$WORK/vitest$v/report.json"; then
      echo "vitest $(cd "$WORK/vitest$v" && npx vitest --version): describeBackends passed on wasm and cpu"
    else
      cat "$WORK/vitest$v/vitest.log"
      fail "vitest $v: the describeBackends suite (2 tests, wasm and cpu, none skipped)"
    fi
  else
    fail "npm install of @pixelcnn/backend next to vitest@^$v"
  fi
done

[ "$FAIL" = 0 ] && echo "consumer check: ok" || { echo "consumer check: FAILED"; exit 1; }
