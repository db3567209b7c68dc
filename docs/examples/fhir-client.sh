#!/bin/sh
# A FHIR client in shell: a token by OAuth client credentials, Patients
# found by name, and a Task read with its Patient. Prints each answer, one
# JSON document per line.
#   BASE=http://127.0.0.1:3000 API_KEY=… API_SECRET=… sh fhir-client.sh
set -eu
fhir="$BASE/fhir/R4"

answer=$(curl -sf -X POST "$fhir/auth/token" -u "$API_KEY:$API_SECRET" \
  --data-urlencode grant_type=client_credentials \
  --data-urlencode 'scope=system/Patient.rs system/Task.rs')
token=$(printf '%s' "$answer" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
printf '%s\n' "$answer" | sed 's/"access_token":"[^"]*"/"access_token":"…"/'

curl -sf -G "$fhir/Patient" -H "Authorization: Bearer $token" \
  -H 'Accept: application/fhir+json' --data-urlencode name=test
echo
curl -sf -G "$fhir/Task" -H "Authorization: Bearer $token" \
  -H 'Accept: application/fhir+json' --data-urlencode _id=201 \
  --data-urlencode _include=Task:patient
echo
