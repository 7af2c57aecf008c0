#!/bin/bash
# ValidateService: the new version answers its health check within a minute, or the host fails
# the deployment (CodeDeploy then stops, and rolls back on failure).
set -euo pipefail
for _ in $(seq 1 30); do
  if curl -fsS --max-time 2 http://localhost:8080/health >/dev/null; then
    exit 0
  fi
  sleep 2
done
echo "inventory did not answer /health on port 8080" >&2
exit 1
