#!/usr/bin/env bash
# Cargo runner: boots the firmware ELF ($1) on QEMU's MPS2 AN386 with UART0
# bridged to 127.0.0.1:$INTACCT_FW_PORT (the simulator listener the
# firmware was built for) and semihosting for output and the exit status.
set -euo pipefail
if [[ -z "${INTACCT_FW_PORT:-}" ]]; then
    echo "error: INTACCT_FW_PORT is not set: set it to the simulator port the firmware was built for" >&2
    exit 2
fi
exec qemu-system-arm -machine mps2-an386 -cpu cortex-m4 -nographic \
    -monitor none \
    -serial "tcp:127.0.0.1:${INTACCT_FW_PORT}" \
    -semihosting-config enable=on,target=native \
    -kernel "$1"
