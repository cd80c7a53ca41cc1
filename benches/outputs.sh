#!/usr/bin/env bash
# Alerts per second into a local Redis against the EVE file, same run, same
# capture: a release `ferret scan` of a generated capture whose one rule
# flags every packet (so every packet is an alert), written to
#   - the EVE file (the baseline),
#   - Redis in each mode (list, rpush, stream, channel), with the default
#     buffer (10000 events: if Redis is slower than the scan, the excess is
#     dropped and counted, which is the point of the buffer), and list mode
#     with a buffer as large as the run (every alert waits for Redis).
#
#   benches/outputs.sh [PACKETS]        (default 200000; needs redis-server)
#
# Prints seconds (best of 3), alerts written and dropped, and written alerts
# per second; redis-server runs on a free loopback port in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
command -v redis-server >/dev/null || { echo "redis-server is not installed (apt-get install redis-server)"; exit 1; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" --loglevel warning >/dev/null &
redis=$!
trap 'kill $redis 2>/dev/null; rm -rf "$work"' EXIT
cargo build --release -q --example make-samples --bin ferret
./target/release/examples/make-samples --bench "$n" "$work/bench.pcap" >/dev/null
bin=./target/release/ferret
printf 'alert ip any any -> any any {\n  id 1\n  msg "every packet"\n  when ip.ttl > 0\n}\n' > "$work/all.rules"
until redis-cli -p "$port" ping >/dev/null 2>&1; do sleep 0.05; done

run() { # name, eve target: best of 3 wall-clock seconds, then the last run's output counters
  local name=$1 eve=$2 best= s e
  for _ in 1 2 3; do
    rm -f "$work/eve.json"; redis-cli -p "$port" flushall >/dev/null
    s=$(date +%s.%N)
    "$bin" scan -q -r "$work/all.rules" --eve "$eve" --stats "$work/stats.json" "$work/bench.pcap" 2>/dev/null
    e=$(date +%s.%N)
    best=$(echo "$s $e ${best:-999999}" | awk '{d=$2-$1; print (d<$3)?d:$3}')
  done
  python3 - "$name" "$best" "$work/stats.json" "$work/eve.json" <<'PY'
import json, os, sys
name, secs, stats, eve = sys.argv[1], float(sys.argv[2]), json.load(open(sys.argv[3])), sys.argv[4]
alerts = sum(stats["alerts_by_sid"].values())
if stats.get("outputs"):
    o = stats["outputs"][0]; written, dropped = o["written"], o["dropped"]
else:
    written, dropped = sum(1 for _ in open(eve)), 0
print(f"{name:<26} {secs:8.3f} s  alerts {alerts:>8}  written {written:>8}  dropped {dropped:>8}  {written/secs:>10.0f} written/s")
PY
}

echo "ferret output throughput, $n packets, one alert per packet; redis-server $(redis-server --version | grep -o 'v=[0-9.]*')"
run "file (EVE)" "$work/eve.json"
run "redis list" "redis://127.0.0.1:$port/k"
run "redis rpush" "redis://127.0.0.1:$port/k?mode=rpush"
run "redis stream" "redis://127.0.0.1:$port/k?mode=stream"
run "redis channel" "redis://127.0.0.1:$port/k?mode=channel"
run "redis list, buffer=$n" "redis://127.0.0.1:$port/k?buffer=$n"
