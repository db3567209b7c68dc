"""A FHIR client in Python (requests): a token by OAuth client credentials,
Patients found by name, and a Task read with its Patient. Prints each
answer, one JSON document per line.

    BASE=http://127.0.0.1:3000 API_KEY=… API_SECRET=… python3 fhir-client.py
"""

import json
import os

import requests

fhir = f"{os.environ['BASE']}/fhir/R4"

answer = requests.post(
    f"{fhir}/auth/token",
    auth=(os.environ["API_KEY"], os.environ["API_SECRET"]),
    data={"grant_type": "client_credentials", "scope": "system/Patient.rs system/Task.rs"},
    timeout=30,
)
answer.raise_for_status()
token = answer.json()["access_token"]
print(json.dumps({**answer.json(), "access_token": "…"}))

headers = {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}
for resource_type, query in [
    ("Patient", {"name": "test"}),
    ("Task", {"_id": "201", "_include": "Task:patient"}),
]:
    found = requests.get(f"{fhir}/{resource_type}", params=query, headers=headers, timeout=30)
    found.raise_for_status()
    print(json.dumps(found.json()))
