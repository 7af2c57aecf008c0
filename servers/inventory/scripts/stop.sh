#!/bin/bash
# ApplicationStop: stop the running version (nothing to stop on a new host).
set -uo pipefail
systemctl stop inventory.service 2>/dev/null || true
