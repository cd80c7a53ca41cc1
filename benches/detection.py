#!/usr/bin/env python3
"""Scores ferret binaries on the red-team corpus, side by side.

Usage: benches/detection.py CORPUS_DIR BINARY [BINARY ...]

CORPUS_DIR is what `cargo run --example make-samples -- --corpus DIR` writes:
NAME.pcap with NAME.truth (one line per packet, 1 for a tunnel packet). Each
binary scans each capture with its built-in rules (`ferret scan --eve`); an
alert is on a tunnel packet when its `pcap_cnt` is a tunnel packet's number.
For each binary the table gives, per scenario, the tunnel packets alerted on
and the alerts on other packets, then the totals: tunnel scenarios caught
(at least one alert on a tunnel packet), benign scenarios with any alert,
and the alerts on non-tunnel packets overall.
"""

import json
import os
import subprocess
import sys
import tempfile


def score(binary, pcap, truth):
    with tempfile.TemporaryDirectory() as tmp:
        eve = os.path.join(tmp, "eve.json")
        subprocess.run(
            [binary, "scan", "-q", "--no-summary", "--eve", eve, pcap],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        on_tunnel, on_other = set(), 0
        if os.path.exists(eve):
            with open(eve) as f:
                for line in f:
                    event = json.loads(line)
                    if event.get("event_type") != "alert":
                        continue
                    n = event.get("pcap_cnt", 0)
                    if 0 < n <= len(truth) and truth[n - 1]:
                        on_tunnel.add(n)
                    else:
                        on_other += 1
    return len(on_tunnel), on_other


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    corpus, binaries = sys.argv[1], sys.argv[2:]
    names = sorted(n[:-6] for n in os.listdir(corpus) if n.endswith(".truth"))
    totals = {b: [0, 0, 0, 0] for b in binaries}
    print(f"{'scenario':<36} {'tunnel pkts':>11}" + "".join(f"  {b[-24:]:>24}" for b in binaries))
    print(f"{'':<36} {'':>11}" + "".join(f"  {'tunnel hit / other':>24}" for _ in binaries))
    tunnel_scenarios = benign_scenarios = 0
    for name in names:
        with open(os.path.join(corpus, name + ".truth")) as f:
            truth = [line.strip() == "1" for line in f]
        tunnel = sum(truth)
        tunnel_scenarios += tunnel > 0
        benign_scenarios += tunnel == 0
        cells = []
        for b in binaries:
            hit, other = score(b, os.path.join(corpus, name + ".pcap"), truth)
            t = totals[b]
            t[0] += tunnel > 0 and hit > 0
            t[1] += tunnel == 0 and other > 0
            t[2] += other
            t[3] += hit
            cells.append(f"{hit:>11} / {other:<10}")
        print(f"{name:<36} {tunnel:>11}" + "".join(f"  {c:>24}" for c in cells))
    print()
    for b in binaries:
        caught, noisy, other, hit = totals[b]
        print(
            f"{b}: tunnel scenarios caught {caught}/{tunnel_scenarios}, "
            f"benign scenarios with alerts {noisy}/{benign_scenarios}, "
            f"tunnel packets alerted {hit}, alerts on other packets {other}"
        )


if __name__ == "__main__":
    main()
