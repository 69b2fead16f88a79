#!/usr/bin/env bash
# Regenerates fuzz/seeds/ from the codec's catalogue of canonical encodings
# (codec/tests/catalogue.rs, exported with TOUCHSTONE_WRITE_CORPUS).
#
#   decode_v31, decode_v311, decode_v5   the encoding as it is
#   roundtrip                            a version selector byte (0: 3.1, 1: 3.1.1, 2: 5.0), then it
#   streaming                            the selector, "1 chunk size: 1 byte", then it
#
# Usage: bash fuzz/gen-seeds.sh   (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$root" && TOUCHSTONE_WRITE_CORPUS="$tmp" \
    CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}" \
    cargo test -q -p touchstone-codec --test catalogue write_corpus >/dev/null)

seeds="$here/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"/{decode_v31,decode_v311,decode_v5,roundtrip,streaming}
for v in v31 v311 v5; do
    case $v in v31) sel='\x00' ;; v311) sel='\x01' ;; v5) sel='\x02' ;; esac
    for f in "$tmp/$v"/*.bin; do
        name="$(basename "$f" .bin)"
        cp "$f" "$seeds/decode_$v/$name"
        { printf "$sel"; cat "$f"; } >"$seeds/roundtrip/${v}_$name"
        { printf "$sel\x01\x01"; cat "$f"; } >"$seeds/streaming/${v}_$name"
    done
done
echo "seeds: $(find "$seeds" -type f | wc -l) files, $(find "$seeds" -type f -exec cat {} + | wc -c) bytes"
