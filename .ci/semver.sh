#!/usr/bin/env bash
# cargo semver-checks of the published library crates against the previous
# release tag (v*): a spec change that breaks downstream crates (a removed
# field, a renamed type, a required argument) fails here. Nothing to compare
# against before the first release. Usage: .ci/semver.sh [TAG]
set -euo pipefail
cd "$(dirname "$0")/.."

tag="${1:-$(git describe --tags --abbrev=0 --match 'v*' 2>/dev/null || true)}"
if [ -z "$tag" ]; then
  echo "no release tag (v*) yet: nothing to compare against"
  exit 0
fi
# Installed once when missing (several minutes on 2 cores).
command -v cargo-semver-checks >/dev/null || cargo install --locked cargo-semver-checks --version '^0.51'
# The library crates that crates.io would carry, each only if it existed at
# the tag (a crate new since then has nothing to break). The baseline is built
# from the tag in cargo-semver-checks' own target directory.
packages=()
for crate in piapi-kling-models piapi-kling-client piapi-kling piapi-kling-ledger piapi-kling-sim; do
  if git cat-file -e "$tag:crates/$crate/Cargo.toml" 2>/dev/null; then
    packages+=(-p "$crate")
  else
    echo "$crate is new since $tag: nothing to compare"
  fi
done
cargo semver-checks check-release --baseline-rev "$tag" "${packages[@]}"
