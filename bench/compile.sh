#!/usr/bin/env bash
# What a user compiles (issue 12): cold debug builds of small downstream
# binaries, each in a fresh target directory, in interleaved pairs:
#   sdk    - on piapi-kling (default features: rustls)
#   raw    - on reqwest + tokio + serde_json directly, with the reqwest
#            features the SDK itself enables (json, rustls), so that both
#            sides pay for the same TLS stack
#   raw-default - the same with reqwest's default features plus json (what
#            `cargo add reqwest --features json` writes: also http2, charset
#            and system-proxy)
#   sdk-native / raw-native / raw-native-default - the same with native-tls
#            (OpenSSL)
#   models - on piapi-kling-models alone (a webhook receiver's dependency)
# Each line printed: kind, pair, CPU seconds (user + system), wall seconds.
# Versions are pinned by the workspace's Cargo.lock (a crate the workspace
# never built, such as native-tls's, is downloaded on first use: run once to
# warm the registry cache before taking figures).
#
#   bash bench/compile.sh [PAIRS] [KINDS...]
#   e.g. bash bench/compile.sh 3 sdk raw; bash bench/compile.sh 1 models
# With TIMINGS=1 the first sdk build also writes cargo's --timings report and
# prints its ten longest units.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pairs=${1:-3}
shift || true
kinds=("$@")
[ ${#kinds[@]} -gt 0 ] || kinds=(sdk raw)
work=${WORK:-/tmp/piapi-kling-compile}
rm -rf "$work"
mkdir -p "$work"

make_crate() { # kind dir
    local kind=$1 dir=$2
    mkdir -p "$dir/src"
    cp "$root/Cargo.lock" "$dir/"
    local deps main
    case $kind in
    sdk | sdk-native)
        local features=""
        [ "$kind" = sdk-native ] && features=', default-features = false, features = ["native-tls"]'
        deps="piapi-kling = { path = \"$root/crates/piapi-kling\"$features }
tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }"
        main='#[tokio::main]
async fn main() {
    let client = piapi_kling::Client::builder()
        .base_url("http://127.0.0.1:9")
        .api_key("key")
        .build()
        .expect("client");
    let created = client.text_to_video("a cat").send().await;
    println!("{}", created.is_ok());
}'
        ;;
    raw | raw-native | raw-default | raw-native-default)
        local reqwest='default-features = false, features = ["json", "rustls"]'
        case $kind in
        raw-native) reqwest='default-features = false, features = ["json", "native-tls"]' ;;
        raw-default) reqwest='features = ["json"]' ;;
        raw-native-default)
            reqwest='default-features = false, features = ["json", "native-tls", "http2", "charset", "system-proxy"]'
            ;;
        esac
        deps="reqwest = { version = \"0.13\", $reqwest }
serde_json = \"1\"
tokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }"
        main='#[tokio::main]
async fn main() {
    let body = serde_json::json!({"model": "kling", "task_type": "video_generation",
                                  "input": {"prompt": "a cat", "aspect_ratio": "16:9"}});
    let sent = reqwest::Client::new()
        .post("http://127.0.0.1:9/api/v1/task")
        .header("x-api-key", "key")
        .json(&body)
        .send()
        .await;
    if let Ok(response) = sent {
        let task: serde_json::Value = response.json().await.unwrap_or_default();
        println!("{}", task["data"]["task_id"]);
    }
}'
        ;;
    models)
        deps="piapi-kling-models = { path = \"$root/crates/piapi-kling-models\" }
serde_json = \"1\""
        main='fn main() {
    let body = std::io::read_to_string(std::io::stdin()).unwrap_or_default();
    let task: Result<piapi_kling_models::TaskResponse, _> = serde_json::from_str(&body);
    println!("{}", task.is_ok());
}'
        ;;
    *) echo "unknown kind $kind" >&2; exit 2 ;;
    esac
    printf '[package]\nname = "downstream-%s"\nversion = "0.1.0"\nedition = "2024"\npublish = false\n\n[dependencies]\n%s\n\n[workspace]\n' \
        "$kind" "$deps" >"$dir/Cargo.toml"
    printf '%s\n' "$main" >"$dir/src/main.rs"
}

timed_first=0
for pair in $(seq 1 "$pairs"); do
    for kind in "${kinds[@]}"; do
        dir="$work/$kind-$pair"
        make_crate "$kind" "$dir"
        extra=()
        if [ "${TIMINGS:-0}" = 1 ] && [ "$kind" = sdk ] && [ $timed_first = 0 ]; then
            extra=(--timings)
            timed_first=1
        fi
        /usr/bin/time -f "%U %S %e" -o "$dir/time" \
            cargo build --quiet --manifest-path "$dir/Cargo.toml" \
            --target-dir "$dir/target" "${extra[@]}" >"$dir/build.log" 2>&1 ||
            { cat "$dir/build.log" >&2; exit 1; }
        read -r user sys wall <"$dir/time"
        printf '%-11s pair %d  CPU %6.1f s  wall %6.1f s\n' "$kind" "$pair" \
            "$(echo "$user + $sys" | bc)" "$wall"
        if [ ${#extra[@]} -gt 0 ]; then
            python3 - "$dir/target/cargo-timings/cargo-timing.html" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", html, re.S).group(1))
units.sort(key=lambda u: -u["duration"])
print("  longest units (cargo --timings, seconds):")
for u in units[:10]:
    print(f"    {u['duration']:6.1f}  {u['name']} {u['version']} {u.get('target', '')}".rstrip())
PY
        fi
        rm -rf "$dir/target/debug/deps" "$dir/target/debug/build" "$dir/target/debug/.fingerprint"
    done
done
