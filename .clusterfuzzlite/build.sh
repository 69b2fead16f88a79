#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every cargo-fuzz target of fuzz/ into $OUT, each with its
# seed corpus ($OUT/<target>_seed_corpus.zip, from fuzz/seeds/<target>) and the MQTT dictionary
# ($OUT/<target>.dict), and its libFuzzer options where it has some ($OUT/<target>.options,
# from fuzz/options/). Runs in ClusterFuzzLite's builder image, and here with the variables it
# sets ($SRC, $OUT, $WORK, $SANITIZER): .ci/run builds and checks it that way.
#
# Environment: SRC (the folder holding the checkout `touchstone`, or TOUCHSTONE_SRC for the
# checkout itself), OUT, SANITIZER (address, the default; coverage and none build without
# ASan), TARGETS (a subset; default: every [[bin]] of fuzz/Cargo.toml).
set -eu
src="${TOUCHSTONE_SRC:-$SRC/touchstone}"
cd "$src"

case "${SANITIZER:-address}" in
  address) sanitizer=address ;;
  *) sanitizer=none ;;
esac
targets="${TARGETS:-$(sed -n 's/^name = "\([a-z_0-9]*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^touchstone-fuzz$')}"
[ -n "$targets" ] || { echo "no fuzz target found in fuzz/Cargo.toml" >&2; exit 1; }

# The builder image runs nightly; elsewhere (this project's CI) stable with RUSTC_BOOTSTRAP.
export RUSTC_BOOTSTRAP="${RUSTC_BOOTSTRAP:-1}"
if [ -z "${TARGETS:-}" ]; then
  cargo fuzz build -O --sanitizer "$sanitizer"
else
  for t in $targets; do cargo fuzz build -O --sanitizer "$sanitizer" "$t"; done
fi

build_dir="fuzz/target/x86_64-unknown-linux-gnu/release"
zip_dir() { # zip_dir ZIP DIR: the files of DIR, flat
  if command -v zip >/dev/null 2>&1; then
    (cd "$2" && zip -q -r -j "$1" .)
  else
    python3 -m zipfile -c "$1" "$2"/*
  fi
}
for t in $targets; do
  cp "$build_dir/$t" "$OUT/$t"
  if [ -d "fuzz/seeds/$t" ] && [ -n "$(ls -A "fuzz/seeds/$t")" ]; then
    rm -f "$OUT/${t}_seed_corpus.zip"
    zip_dir "$OUT/${t}_seed_corpus.zip" "fuzz/seeds/$t"
  fi
  cp fuzz/mqtt.dict "$OUT/$t.dict"
  if [ -f "fuzz/options/$t.options" ]; then cp "fuzz/options/$t.options" "$OUT/$t.options"; fi
done
echo "built into $OUT: $(echo $targets | wc -w) targets"
