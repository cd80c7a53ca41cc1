#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with starting inputs for the fuzz targets.
#
# Why: libFuzzer finds deep bugs far sooner from valid inputs than from nothing: real rule
# files reach the compiler, real captures reach every decoder, and a well-formed DNS message
# reaches the answer walk on the first run. Idempotent: seeds are (re)written under names
# starting with `seed-`; what the fuzzer added to a corpus is left alone.
#
# Usage: fuzz/seed.sh            (from anywhere)
# Env:   FERRET_PCAPS=DIR        the shared captures (default: <repo>/../shared/pcaps)
set -euo pipefail

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$fuzz_dir")"
corpus="$fuzz_dir/corpus"
pcaps="${FERRET_PCAPS:-$repo/../shared/pcaps}"

# Largest seed copied for the capture target; bigger captures are cut to this (a cut
# capture is itself a useful seed: it ends in a truncated record).
max_capture_seed=65536

mkdir -p "$corpus"/{rules,capture,packet,dns,config}

# Writes the hex digits of $2 (whitespace ignored) as bytes to file $1 (plain bash: no xxd).
hex_seed() {
    local hex escaped
    hex="$(printf '%s' "$2" | tr -d ' \n\t')"
    if [[ ! "$hex" =~ ^([0-9a-fA-F]{2})*$ ]]; then
        echo "seed.sh: bad hex for $1" >&2
        return 1
    fi
    escaped="$(printf '%s' "$hex" | sed 's/../\\x&/g')"
    printf '%b' "$escaped" > "$1"
}

# Copies file $2 to $1, cut to $max_capture_seed bytes.
capture_seed() {
    head -c "$max_capture_seed" "$2" > "$1"
}

# ---- config: the shipped example configs and a few broken ones.
for f in "$repo"/ferret.example.yaml "$repo"/examples/tuning/ferret.yaml; do
    [ -f "$f" ] && cp "$f" "$corpus/config/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
done
printf 'networks:\n  lab:\n    cidrs: [10.0.0.0/33, "::1/200"]\n    vars: {X: [1, [2, {a: b}]]}\n' > "$corpus/config/seed-bad-networks.yaml"
printf 'vars: {A: "10s", B: file("x"), C: "[1,2"}\nstate: {idle: soon, max_entries: -1}\nrules: ["*.nope", builtin]\n' > "$corpus/config/seed-bad-values.yaml"

# ---- rules: the shipped rules, grammar examples, the fuzz engine rules, and a few snippets.
for f in "$repo"/rules/*.rules "$repo"/grammar/examples/*.rules "$fuzz_dir"/fuzz_targets/engine.rules; do
    [ -f "$f" ] && cp "$f" "$corpus/rules/seed-$(basename "$(dirname "$f")")-$(basename "$f")"
done
cat > "$corpus/rules/seed-snippet-vars.rules" <<'RULES'
var HOME = [10.0.0.0/8, 192.168.0.0/16, fd00::/8]
var PORTS = [53, 5353, 1024:65535, !8080]
var N = 1.5e3
var NAME = "a \"quoted\" \x41 name\n"
var RE = /^x[0-9a-f]{4}$/i
var R = 10..20
pass ip $HOME any <> any $PORTS { id 1 when ip.ttl in $R }
RULES
cat > "$corpus/rules/seed-snippet-stateful.rules" <<'RULES'
alert dns any any -> any 53 {
    id 7 rev 2 msg "{dns.qname} {dns.qname.entropy:.2}" severity medium class c tags x
    when not (dns.qname ends_with ".local" or dns.qname starts_with "_") and dns.qtype != PTR
    threshold 10 within 1m by src
    rate > 5/10s by pair
    limit 1 per 1h by flow
    distinct dns.subdomain > 50 within 300s by src, dns.domain
}
RULES
cat > "$corpus/rules/seed-snippet-errors.rules" <<'RULES'
alert icmp any any to any any {
    id 1
    when payload.lenght > 5 and ((((not icmp.type == 8
}
alert tcp any any -> any any { id 1 when tcp.flags == SYN and payload matches /(unclosed/ }
var = 3
alert dns any 70000 -> any any { id 2 severity extreme when dns.qname contains "\xZZ" }
RULES

# ---- capture: the project's samples, the shared captures (benign, tunnels, part of odd).
for f in "$repo"/samples/*; do
    [ -f "$f" ] && capture_seed "$corpus/capture/seed-samples-$(basename "$f")" "$f"
done
if [ -d "$pcaps" ]; then
    for dir in benign tunnel-dns tunnel-icmp; do
        for f in "$pcaps/$dir"/*; do
            [ -f "$f" ] && capture_seed "$corpus/capture/seed-$dir-$(basename "$f")" "$f"
        done
    done
    # From odd/: the small ones (most of it) and those about what ferret decodes.
    for f in "$pcaps"/odd/*; do
        [ -f "$f" ] || continue
        name="$(basename "$f")"
        size="$(wc -c < "$f")"
        if [ "$size" -le 16384 ] || [[ "$name" =~ dns|icmp|ipv6|LINKTYPE|QinQ|arp|sll|null|loop ]]; then
            capture_seed "$corpus/capture/seed-odd-$name" "$f"
        fi
    done
else
    echo "seed.sh: no shared captures at $pcaps; capture seeds from samples/ only" >&2
fi

# ---- dns: DNS messages as they appear in a UDP payload (the target also tries TCP framing).
hex_seed "$corpus/dns/seed-a-query" \
    1a2b0100000100000000000003777777076578616d706c6503636f6d0000010001
hex_seed "$corpus/dns/seed-response-compressed" \
    "beef81800001000200000000076578616d706c6503636f6d0000010001c00c000500010000003c000603777777c00c
     c029000100010000003c00045db8d822"
hex_seed "$corpus/dns/seed-txt-tunnel-query" \
    "77aa0100000100000000000006646e73636174303861306330316533663262346135396336643765386639306131
     623263336434653566363037313832393361346235630833633664316532660674756e6e656c076578616d706c65
     03636f6d0000100001"
hex_seed "$corpus/dns/seed-tcp-framed-any-query" \
    0021beef0100000100000000000003746370076578616d706c6503636f6d0000ff0001
hex_seed "$corpus/dns/seed-iodine-null-raw-labels" \
    00010100000100000000000014c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3067069726174650373656100000a0001
hex_seed "$corpus/dns/seed-pointer-loop" \
    000201000001000000000000c00c00010001
hex_seed "$corpus/dns/seed-ten-answers" \
    "000385800001000a00000000046d616e79076578616d706c650000ff0001
     c00c000100010000001e000401020304c00c001c00010000001e000401020304
     c00c000500010000001e000401020304c00c001000010000001e000401020304
     c00c000f00010000001e000401020304c00c000200010000001e000401020304
     c00c000600010000001e000401020304c00c000c00010000001e000401020304
     c00c002100010000001e000401020304c00c006300010000001e000401020304"
hex_seed "$corpus/dns/seed-label-0x40-nxdomain" \
    "000481830001000000000000406161616161616161616161616161616161616161616161616161616161616161
     61616161616161616161616161616161616161616161616161616161616161610000010001"
hex_seed "$corpus/dns/seed-answers-cut-short" \
    00058180000100020000000003637574076578616d706c650000010001c00c00010001

# ---- packet: byte 0 picks the link type (index into 0,1,12,14,101,108,113,228,229,276;
# bit 7 marks the frame as snapped), the rest is one frame.
hex_seed "$corpus/packet/seed-eth-icmp-echo" \
    "01005056c00001000c29aabbcc08004500007c1234400040010e390a0000050808080808000000feff00010b3055
     7a9fc4e90e33587da2c7ec11365b80a5caef14395e83a8cdf2173c6186abd0f51a3f6489aed3f81d42678cb1d6fb
     20456a8fb4d9fe23486d92b7dc01264b7095badf04294e7398bde2072c51769bc0e50a2f54799ec3e80d32577ca1c6"
hex_seed "$corpus/packet/seed-eth-vlan-dns-txt" \
    "01005056c00001000c29aabbcc8100006408004500006012344000401114200a0000050a0000359c400035004c00
     00beef01000001000000000000246d7a7877367974626f693464736d7a78677133746d6e627667793274716e7276
     686532610174076578616d706c65036f72670000100001"
hex_seed "$corpus/packet/seed-eth-qinq-dns-a" \
    "01005056c00001000c29aabbcc88a8000a8100001408004500003d12344000401114430a0000050a0000359c4100
     3500290000beef0100000100000000000003777777076578616d706c6503636f6d0000010001"
hex_seed "$corpus/packet/seed-eth-arp-request" \
    01005056c00001000c29aabbcc08060001080006040001000c29aabbcc0a0000050000000000000a000035
hex_seed "$corpus/packet/seed-raw-dns-response" \
    "044500005b12344000401114250a0000350a00000500359c4000470000beef81800001000200000000076578616d
     706c6503636f6d0000010001c00c000500010000003c000603777777c00cc029000100010000003c00045db8d822"
hex_seed "$corpus/packet/seed-ipv6-icmp6-echo" \
    "086000000000503a4020010db800000000000000000000000120010db800000000000000000000000280000000
     000700010b30557a9fc4e90e33587da2c7ec11365b80a5caef14395e83a8cdf2173c6186abd0f51a3f6489aed3f8
     1d42678cb1d6fb20456a8fb4d9fe23486d92b7dc01264b7095badf04294e"
hex_seed "$corpus/packet/seed-raw-ipv6-hbh-dns" \
    "04600000000032004020010db800000000000000000000000120010db800000000000000000000000211000104
     000000009c420035002a0000beef010000010000000000000469707636076578616d706c65036e657400001c0001"
hex_seed "$corpus/packet/seed-sll-tcp-dns" \
    "06000000010006000c29aabbcc000008004500004b12344000400614400a0000050a0000359c430035000003e800
     0000005018ffff000000000021beef0100000100000000000003746370076578616d706c6503636f6d0000ff0001"
hex_seed "$corpus/packet/seed-sll2-tcp-syn" \
    "09080000000000000200010006000c29aabbcc0000450000281234400040060e880a000005080808089c4401bb00
     0003e8000000005002ffff00000000"
hex_seed "$corpus/packet/seed-null-icmp-time-exceeded" \
    "00020000004500003812344000fa01547c080808080a0000050b00000000000000450000241234400040110e810a
     000005080808080001000200100000"
hex_seed "$corpus/packet/seed-loop-icmp6-echo-reply" \
    "05000000186000000000103a4020010db800000000000000000000000220010db80000000000000000000000018100
     0000000700016162636465666768"
hex_seed "$corpus/packet/seed-ipv4-fragment" \
    0745000024123420004011345c0a0000050a0000359c450035002a0000beef010000010000
hex_seed "$corpus/packet/seed-bsd-raw-iodine-null" \
    "024500004d12344000401114330a0000050a0000359c4600350039000000010100000100000000000014c0c1c2c3
     c4c5c6c7c8c9cacbcccdcecfd0d1d2d3067069726174650373656100000a0001"
hex_seed "$corpus/packet/seed-eth-icmp-snapped" \
    "81005056c00001000c29aabbcc0800450000441234400040010e710a0000050808080808000000000100020b3055
     7a9fc4e90e33587da2c7ec11365b80a5caef14395e83a8cdf2173c6186abd0f51a3f6489ae"

for target in rules capture packet dns; do
    echo "seed.sh: $target: $(find "$corpus/$target" -maxdepth 1 -name 'seed-*' | wc -l) seeds"
done
