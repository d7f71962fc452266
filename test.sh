#!/usr/bin/env bash
# Runs every test: unit, end-to-end against the simulator over TCP and TLS,
# and the firmware under QEMU. Installs what those need on first use:
# the Rust targets (through rustup) and qemu-system-arm (through apt-get,
# which needs root).
set -euo pipefail
cd "$(dirname "$0")"

installed_targets=$(rustup target list --installed)
for target in thumbv7em-none-eabihf thumbv6m-none-eabi riscv32imc-unknown-none-elf; do
    if ! grep -qx "$target" <<<"$installed_targets"; then
        rustup target add "$target"
    fi
done
if ! command -v qemu-system-arm >/dev/null 2>&1; then
    apt-get update
    apt-get install -y --no-install-recommends qemu-system-arm
fi

cargo test --workspace "$@"
