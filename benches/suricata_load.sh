#!/usr/bin/env bash
# Time to load a generated 10,000-rule Suricata file (parse, translate, compile):
# `ferret check` on it, release build, one run.
#   benches/suricata_load.sh [RULES]    (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
cargo build --release --quiet
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# A mix of the shapes real rule sets have: header-only, content with positions,
# DNS names with pcre, ICMP with thresholds.
awk -v n="$n" 'BEGIN {
  for (i = 1; i <= n; i++) {
    sid = 1000000 + i
    k = i % 4
    if (k == 0) printf "alert ip 10.%d.%d.0/24 any -> $EXTERNAL_NET any (msg:\"host %d\"; classtype:policy-violation; sid:%d; rev:1;)\n", i % 250, i % 200, i, sid
    else if (k == 1) printf "alert udp $HOME_NET any -> any %d (msg:\"payload %d\"; content:\"|%02x %02x|tok%d\"; offset:2; depth:40; content:\"end\"; distance:0; within:64; nocase; sid:%d; rev:2;)\n", 1024 + i % 60000, i, i % 256, (i * 7) % 256, i, sid
    else if (k == 2) printf "alert dns any any -> any any (msg:\"name %d\"; dns.query; content:\"n%d.example\"; nocase; pcre:\"/^[a-z0-9]{8,}\\.n%d\\./i\"; bsize:>12; sid:%d;)\n", i, i, i, sid
    else printf "alert icmp any any -> any any (msg:\"icmp %d\"; itype:8; dsize:>%d; threshold: type limit, track by_src, count 1, seconds 60; sid:%d;)\n", i, i % 1400, sid
  }
}' > "$dir/generated.rules"
start=$(date +%s%N)
./target/release/ferret check "$dir/generated.rules" >/dev/null
end=$(date +%s%N)
echo "loaded $n Suricata rules in $(( (end - start) / 1000000 )) ms (release build, one run: parse, translate, compile)"
