#!/usr/bin/env bash
# Benchmark: reseal capture of a qcow2 disk image against wimlib-imagex
# capture of the same raw NTFS volume (wimlib reads it through libntfs-3g),
# same compression and threads, alternating runs; prints the times, the
# ratio and the load. Usage: bench/disk/run.sh [WORKDIR] (default a temp dir).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="$PATH:/usr/sbin:/sbin"
work=${1:-$(mktemp -d)}
runs=${RUNS:-3}
threads=${THREADS:-2}
go build -o "$work/reseal" ./cmd/reseal
if [ ! -f "$work/disk.qcow2" ]; then
  "$work/reseal" sample "$work/tree" >/dev/null
  # Bulk: the Go distribution (about 270 MB, 14,000 files of code, text, binaries).
  cp -a "$(go env GOROOT)" "$work/tree/Program Files/Go"
  wimlib-imagex capture "$work/tree" "$work/src.wim" --compress=none >/dev/null
  truncate -s 1G "$work/vol.img"
  mkntfs -F -Q -q "$work/vol.img" 2>/dev/null
  wimlib-imagex apply "$work/src.wim" 1 "$work/vol.img" >/dev/null
  truncate -s $((1024 + 2))M "$work/disk.raw"
  printf 'label: gpt\nstart=2048, size=%d, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\n' $((1024 * 2048)) |
    sfdisk -q --no-reread --no-tell-kernel "$work/disk.raw"
  dd if="$work/vol.img" of="$work/disk.raw" bs=1M seek=1 conv=notrunc status=none
  qemu-img convert -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
fi
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
echo "load before: $(uptime | sed 's/.*load average: //')"
rs=(); ws=()
for i in $(seq "$runs"); do
  rm -f "$work/r.wim" "$work/w.wim"
  ws+=("$(t wimlib-imagex capture "$work/vol.img" "$work/w.wim" --compress=fast --threads="$threads")")
  rs+=("$(t "$work/reseal" capture --quiet --compress xpress --threads "$threads" "$work/disk.qcow2" "$work/r.wim")")
done
echo "load after: $(uptime | sed 's/.*load average: //')"
best() { printf '%s\n' "$@" | sort -n | head -1; }
rb=$(best "${rs[@]}"); wb=$(best "${ws[@]}")
echo "wimlib-imagex capture vol.img (XPRESS, $threads threads): ${ws[*]} s (best $wb)"
echo "reseal capture disk.qcow2     (XPRESS, $threads threads): ${rs[*]} s (best $rb)"
echo "ratio reseal/wimlib (best): $(echo "scale=2; $rb / $wb" | bc)x"
echo "sizes: wimlib $(stat -c %s "$work/w.wim") bytes, reseal $(stat -c %s "$work/r.wim") bytes"
