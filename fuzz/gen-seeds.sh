#!/usr/bin/env bash
# Regenerates fuzz/seeds/ from the codec's catalogue of canonical encodings
# (codec/tests/catalogue.rs, exported with TOUCHSTONE_WRITE_CORPUS).
#
#   decode_v31, decode_v311, decode_v5   the encoding as it is
#   roundtrip, decode_ref                a version selector byte (0: 3.1, 1: 3.1.1, 2: 5.0), then it
#   streaming                            the selector, "1 chunk size: 1 byte", then it
#   streaming_mixed                      the selector (a template CONNECT of that version in
#                                        front), "no chunk sizes", then it
#   topic_match                          a few hand-written filter/name pairs (below)
# broker_core's seeds (fuzz/seeds/broker_core) are a minimised corpus of an earlier run, not
# regenerated here: `fuzz/target-none/x86_64-unknown-linux-gnu/release/broker_core -merge=1
# fuzz/seeds/broker_core fuzz/corpus/broker_core` adds to them.
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
rm -rf "$seeds"/{decode_v31,decode_v311,decode_v5,roundtrip,decode_ref,streaming,streaming_mixed,topic_match}
mkdir -p "$seeds"/{decode_v31,decode_v311,decode_v5,roundtrip,decode_ref,streaming,streaming_mixed,topic_match}
for v in v31 v311 v5; do
    case $v in v31) sel='\x00' ;; v311) sel='\x01' ;; v5) sel='\x02' ;; esac
    for f in "$tmp/$v"/*.bin; do
        name="$(basename "$f" .bin)"
        cp "$f" "$seeds/decode_$v/$name"
        { printf "$sel"; cat "$f"; } >"$seeds/roundtrip/${v}_$name"
        cp "$seeds/roundtrip/${v}_$name" "$seeds/decode_ref/${v}_$name"
        { printf "$sel\x01\x01"; cat "$f"; } >"$seeds/streaming/${v}_$name"
        { printf "$sel\x00"; cat "$f"; } >"$seeds/streaming_mixed/${v}_$name"
    done
done
# topic_match: a filter count byte, then filters and the name separated by 0xFF, each byte an
# index into the target's alphabet (0 a, 1 b, 2 /, 3 +, 4 #, 5 $, 6 NUL, 7 $share/, 11 $SYS, 12 g).
tm="$seeds/topic_match"
printf '\x01\x00\x02\x03\xff\x00\x02\x01' >"$tm/a_plus_vs_a_b"
printf '\x01\x00\x02\x04\xff\x00' >"$tm/a_hash_vs_a"
printf '\x02\x04\xff\x03\x02\x00\xff\x0b\x02\x00' >"$tm/wildcards_vs_dollar_topic"
printf '\x02\x07\x0c\x02\x00\x02\x04\xff\x07\x0c\x02\x00\x02\x04\xff\x00\x02\x01' >"$tm/share_group_of_two"
printf '\x01\x00\x04\xff\x00\x03' >"$tm/misplaced_wildcards"
echo "seeds: $(find "$seeds" -type f | wc -l) files, $(find "$seeds" -type f -exec cat {} + | wc -c) bytes"
