#!/usr/bin/env bash
# Independent third-party checkers of the spec (see ../shared/reference/checkers.md),
# installed here when missing: openapi-spec-validator, Spectral, a breaking-change
# report against the previous release tag, and schemathesis against a running simulator.
set -euo pipefail
cd "$(dirname "$0")/.."
SPEC=spec/piapi-kling.yaml
TOOLS="${PIAPI_KLING_CI_TOOLS:-$HOME/.cache/piapi-kling-ci}"
mkdir -p "$TOOLS"

echo "== openapi-spec-validator"
command -v openapi-spec-validator >/dev/null || pip install --quiet openapi-spec-validator
openapi-spec-validator "$SPEC"

echo "== Spectral (spectral:oas)"
if [ ! -x "$TOOLS/node_modules/.bin/spectral" ] || [ ! -d "$TOOLS/node_modules/api-smart-diff" ]; then
  (cd "$TOOLS" && npm install --silent --no-audit --no-fund @stoplight/spectral-cli@6 api-smart-diff@1 js-yaml@4 >/dev/null)
fi
"$TOOLS/node_modules/.bin/spectral" lint --fail-severity=warn -r .spectral.yaml "$SPEC"

echo "== breaking changes against the previous release tag"
tag=$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)
if [ -z "$tag" ]; then
  echo "no release tag (v*) yet: nothing to compare against"
else
  old=$(mktemp)
  if git show "$tag:$SPEC" > "$old" 2>/dev/null; then
    NODE_PATH="$TOOLS/node_modules" node .ci/tools/spec-diff.cjs "$old" "$SPEC"
  else
    echo "$tag has no $SPEC"
  fi
  rm -f "$old"
fi

if [ -x crates/piapi-kling-sim/scripts/schemathesis.sh ]; then
  echo "== schemathesis against the simulator"
  crates/piapi-kling-sim/scripts/schemathesis.sh
fi
