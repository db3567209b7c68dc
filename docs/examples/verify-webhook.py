"""Verifies a Connecticket webhook delivery (Standard Webhooks, v1).

The body arrives on stdin; the headers in WEBHOOK_ID, WEBHOOK_TIMESTAMP
and WEBHOOK_SIGNATURE; the endpoint's secret (whsec_...) in
WEBHOOK_SECRET. Prints "verified" and exits 0, or "refused" and exits 1.
(The `standardwebhooks` package from PyPI does the same in one call.)
"""
import base64
import hashlib
import hmac
import os
import sys
import time


def verified(secret, webhook_id, timestamp, signatures, body):
    # Refuse deliveries more than five minutes old or early (replays).
    if abs(time.time() - int(timestamp)) > 300:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    # During a secret rotation the header carries two signatures.
    return any(hmac.compare_digest(s, expected) for s in signatures.split())


body = sys.stdin.buffer.read()
env = os.environ
if verified(env["WEBHOOK_SECRET"], env["WEBHOOK_ID"], env["WEBHOOK_TIMESTAMP"],
            env["WEBHOOK_SIGNATURE"], body):
    print("verified")
else:
    print("refused")
    sys.exit(1)
