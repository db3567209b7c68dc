#!/bin/sh
# Verifies a Connecticket webhook delivery (Standard Webhooks, v1).
# The body arrives on stdin; the headers in WEBHOOK_ID, WEBHOOK_TIMESTAMP
# and WEBHOOK_SIGNATURE; the endpoint's secret (whsec_...) in
# WEBHOOK_SECRET. Prints "verified" and exits 0, or "refused" and exits 1.
set -eu
body=$(mktemp)
trap 'rm -f "$body"' EXIT
cat > "$body"

# Refuse deliveries more than five minutes old or early (replays).
now=$(date +%s)
age=$((now - WEBHOOK_TIMESTAMP))
if [ "$age" -gt 300 ] || [ "$age" -lt -300 ]; then
  echo refused; exit 1
fi

# The key is the base64 after "whsec_"; sign "id.timestamp.body".
key=$(printf '%s' "${WEBHOOK_SECRET#whsec_}" | base64 -d | od -An -tx1 | tr -d ' \n')
expected=$( { printf '%s.%s.' "$WEBHOOK_ID" "$WEBHOOK_TIMESTAMP"; cat "$body"; } |
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key" -binary | base64)

# During a secret rotation the header carries two signatures.
for signature in $WEBHOOK_SIGNATURE; do
  if [ "$signature" = "v1,$expected" ]; then
    echo verified; exit 0
  fi
done
echo refused; exit 1
