# Verifies a Connecticket webhook delivery (Standard Webhooks, v1).
# The body arrives on stdin; the headers in WEBHOOK_ID, WEBHOOK_TIMESTAMP
# and WEBHOOK_SIGNATURE; the endpoint's secret (whsec_...) in
# WEBHOOK_SECRET. Prints "verified" and exits 0, or "refused" and exits 1.
require "base64"
require "openssl"

def verified?(secret, id, timestamp, signatures, body)
  # Refuse deliveries more than five minutes old or early (replays).
  return false if (Time.now.to_i - Integer(timestamp)).abs > 300
  key = Base64.strict_decode64(secret.delete_prefix("whsec_"))
  expected = "v1," + Base64.strict_encode64(
    OpenSSL::HMAC.digest("SHA256", key, "#{id}.#{timestamp}.#{body}"))
  # During a secret rotation the header carries two signatures.
  signatures.split(" ").any? { |s| OpenSSL.secure_compare(s, expected) }
end

body = $stdin.read
if verified?(ENV.fetch("WEBHOOK_SECRET"), ENV.fetch("WEBHOOK_ID"),
             ENV.fetch("WEBHOOK_TIMESTAMP"), ENV.fetch("WEBHOOK_SIGNATURE"), body)
  puts "verified"
else
  puts "refused"
  exit 1
end
