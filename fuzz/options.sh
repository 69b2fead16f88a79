# Sourced by fuzz/run-all.sh and fuzz/campaign.sh (which set fuzz_dir).

# libFuzzer options of target $1 from fuzz/options/$1.options (the `[libfuzzer]` section, as
# ClusterFuzzLite reads it), as -key=value arguments, one a line.
libfuzzer_options() {
    local f="$fuzz_dir/options/$1.options"
    [ -f "$f" ] || return 0
    awk '/^\[/ { on = ($0 == "[libfuzzer]"); next }
         on && /^[a-z_]+ *= */ { sub(/ *= */, "="); printf "-%s\n", $0 }' "$f"
}
