#!/usr/bin/env bash
# Prints the firmware's footprint per configuration as a Markdown table.
# Flash (.text + .rodata) and RAM (.data + .bss) come from the ELF's
# section headers. The peak stack comes from the firmware, which paints
# its stack before the getAPISession exchange and scans it after.
#
# It runs the QEMU end-to-end tests (tests/firmware_qemu.rs), which build
# the release firmware for each configuration, run it against the
# simulator and print one `measure:` line each. Needs qemu-system-arm and
# the thumbv7em-none-eabihf target, like those tests.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! log=$(cargo test --test firmware_qemu firmware_gets_session -- --nocapture --test-threads 1 2>&1); then
    printf '%s\n' "$log" >&2
    echo "error: the firmware tests failed; no measurements" >&2
    exit 1
fi

echo "rustc: $(rustc --version)"
echo "qemu: $(qemu-system-arm --version | head -n 1)"
echo
echo "| configuration | .text | .rodata | flash (.text + .rodata) | .data | .bss | RAM (.data + .bss) | peak stack |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
grep -o 'measure: .*' <<<"$log" | while read -r _ fields; do
    declare -A value=()
    for field in $fields; do
        value[${field%%=*}]=${field#*=}
    done
    echo "| ${value[configuration]} | ${value[text]} | ${value[rodata]} | ${value[flash_text_rodata]} | ${value[data]} | ${value[bss]} | ${value[ram_data_bss]} | ${value[stack_peak]} |"
done
