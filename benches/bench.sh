#!/usr/bin/env bash
# Whole-process throughput: `ferret scan` on a generated capture, as a ratio
# against baselines measured in the same run on the same file.
#
#   benches/bench.sh [PACKETS]        (default 1000000)
#
# Baselines: `cat FILE > /dev/null` (reading the bytes), issue 12's floor
# (`examples/floor`: the file mapped, every packet read, the entropy of every
# ICMP payload and DNS query name computed by hand, no engine) and a scan
# whose only rule never matches (read + decode + dispatch). Then the reports' two rules,
# 1,000 and 10,000 generated variants of them (as benches/throughput.rs
# generates), the two rules writing EVE, the default rules, and stateful
# clauses on every packet, each on one thread; then the default rules on
# every core (--threads $(nproc)); then a rule that alerts on every packet,
# printing nothing, the alert lines, or EVE (what writing an alert costs).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cargo build --release -q --example make-samples --example floor --bin ferret
./target/release/examples/make-samples --bench "$n" "$work/bench.pcap" >/dev/null
bin=./target/release/ferret
printf 'alert ip any any -> any any {\n  id 1\n  when ip.ttl > 255\n}\n' > "$work/none.rules"
printf 'alert ip any any -> any any {\n  id 2\n  when ip.ttl > 0\n  threshold 1000000000 within 10s by pair\n}\nalert ip any any -> any any {\n  id 3\n  when ip.ttl > 0\n  rate > 1000000000/s by src\n}\n' > "$work/state.rules"

printf 'alert ip any any -> any any {\n  id 4\n  when ip.ttl > 0\n}\n' > "$work/every.rules"

gen() { # N: the two report rules and N-2 address and fixed-length variants
  local n=$1 k v id
  echo 'alert icmp any any -> any any { id 1 when payload.len > 64 and payload.entropy > 5.8 }'
  echo 'alert dns any any -> any any { id 2 when dns.qname.len > 24 and dns.qname.entropy > 3.5 }'
  for ((k = 0; k < n - 2; k++)); do
    v=$((k / 2)); id=$((k + 3))
    if ((k % 2 == 0 && v % 2 == 0)); then
      echo "alert icmp 10.$((100 + v / 512)).$(((v / 2) % 256)).0/24 any -> any any { id $id when payload.len > 64 and payload.entropy > 5.8 }"
    elif ((k % 2 == 1 && v % 2 == 0)); then
      echo "alert dns 10.$((100 + v / 512)).$(((v / 2) % 256)).0/24 any -> any any { id $id when dns.qname.len > 24 and dns.qname.entropy > 3.5 }"
    elif ((k % 2 == 0)); then
      echo "alert icmp any any -> any any { id $id when payload.len == $((65 + v / 2)) and payload.entropy > 5.8 }"
    else
      echo "alert dns any any -> any any { id $id when dns.qname.len == $((25 + v / 2)) and dns.qname.entropy > 3.5 }"
    fi
  done
}
gen 2 > "$work/two.rules"
gen 1000 > "$work/r1000.rules"
gen 10000 > "$work/r10000.rules"

run() { # name, command...: best of 5 wall-clock seconds
  local name=$1; shift
  local best=
  for _ in 1 2 3 4 5; do
    local s e
    s=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s.%N)
    best=$(echo "$s $e ${best:-999999}" | awk '{d=$2-$1; print (d<$3)?d:$3}')
  done
  echo "$name $best"
}

cores=$(nproc)
one=(--threads 1)
{
  run cat cat "$work/bench.pcap"
  run floor ./target/release/examples/floor "$work/bench.pcap"
  run scan_nomatch "$bin" scan -q --no-summary "${one[@]}" -r "$work/none.rules" "$work/bench.pcap"
  run scan_two_rules "$bin" scan -q --no-summary "${one[@]}" -r "$work/two.rules" "$work/bench.pcap"
  run scan_two_rules_eve "$bin" scan -q --no-summary "${one[@]}" -r "$work/two.rules" --eve "$work/eve.json" --eve-truncate "$work/bench.pcap"
  run scan_1000_rules "$bin" scan -q --no-summary "${one[@]}" -r "$work/r1000.rules" "$work/bench.pcap"
  run scan_10000_rules "$bin" scan -q --no-summary "${one[@]}" -r "$work/r10000.rules" "$work/bench.pcap"
  run scan_default "$bin" scan -q --no-summary "${one[@]}" "$work/bench.pcap"
  run scan_default_threads_$cores "$bin" scan -q --no-summary --threads "$cores" "$work/bench.pcap"
  run scan_stateful "$bin" scan -q --no-summary "${one[@]}" -r "$work/state.rules" "$work/bench.pcap"
  run every_quiet "$bin" scan -q --no-summary "${one[@]}" -r "$work/every.rules" "$work/bench.pcap"
  run every_lines sh -c "\"\$0\" scan --no-summary --threads 1 -r \"\$1\" \"\$2\" > \"\$3\"" "$bin" "$work/every.rules" "$work/bench.pcap" "$work/lines.txt"
  run every_eve "$bin" scan -q --no-summary "${one[@]}" -r "$work/every.rules" --eve "$work/eve.json" --eve-truncate "$work/bench.pcap"
} > "$work/times"

base=$(awk '$1=="scan_nomatch"{print $2}' "$work/times")
echo "ferret whole-process throughput, $n packets, $(stat -c %s "$work/bench.pcap") bytes"
awk -v n="$n" -v base="$base" '{printf "%-26s %8.3f s  %10.0f packets/s  %5.2fx the no-match scan\n", $1, $2, n/$2, base/$2}' "$work/times"
awk -v c="$cores" '$1=="scan_default"{a=$2} $1==("scan_default_threads_" c){b=$2} END{if (b > 0) printf "default rules: --threads %d is %.2fx --threads 1\n", c, a/b}' "$work/times"
awk '$1=="scan_two_rules_eve"{a=$2} $1=="scan_two_rules"{b=$2} END{if (b > 0) printf "two rules: writing EVE costs %.2fx not writing it\n", a/b}' "$work/times"
awk '$1=="scan_two_rules_eve"{a=$2} $1=="floor"{b=$2} END{if (b > 0) printf "two rules with EVE / floor: %.2fx (issue 12 goal: <= 1.5x)\n", a/b}' "$work/times"
awk '$1=="every_lines"{a=$2} $1=="every_quiet"{b=$2} END{if (b > 0) printf "an alert on every packet: alert lines cost %.2fx printing nothing\n", a/b}' "$work/times"
awk '$1=="every_eve"{a=$2} $1=="every_quiet"{b=$2} END{if (b > 0) printf "an alert on every packet: EVE (with the flow table it turns on) costs %.2fx printing nothing\n", a/b}' "$work/times"
