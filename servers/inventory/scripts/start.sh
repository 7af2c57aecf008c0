#!/bin/bash
# ApplicationStart: run the app as a systemd service on port 8080 (restarted if it dies).
set -euo pipefail
cat > /etc/systemd/system/inventory.service <<'UNIT'
[Unit]
Description=inventory service
After=network-online.target

[Service]
Environment=PORT=8080
ExecStart=/usr/bin/python3 /opt/inventory/app.py
Restart=always
DynamicUser=yes

[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable inventory.service
systemctl restart inventory.service
