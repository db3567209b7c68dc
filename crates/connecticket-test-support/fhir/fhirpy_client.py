"""A FHIR client nobody here wrote (fhirpy, from PyPI) against the server.

Usage: fhirpy_client.py BASE API_KEY API_SECRET NAME TASK_ID

Gets a token by OAuth client credentials (client_secret_basic, with
requests), then with fhirpy: searches Patients by NAME, pages every Task
with _count=100 (fhirpy follows the next links), and reads TASK_ID with
_include=Task:patient. Prints one JSON object with what it saw.
"""

import json
import sys

import requests
from fhirpy import SyncFHIRClient

base, api_key, api_secret, name, task_id = sys.argv[1:6]

answer = requests.post(
    f"{base}/auth/token",
    auth=(api_key, api_secret),
    data={"grant_type": "client_credentials", "scope": "system/Patient.rs system/Task.rs"},
    timeout=30,
)
answer.raise_for_status()
token = answer.json()["access_token"]

client = SyncFHIRClient(base, authorization=f"Bearer {token}")

patients = client.resources("Patient").search(name=name).fetch()

# fhirpy's iterator pages by itself, following the server's next links.
task_ids = [task["id"] for task in client.resources("Task").limit(100)]

included = (
    client.resources("Task").search(_id=task_id).include("Task", "patient").fetch_raw()
)

print(
    json.dumps(
        {
            "patients": [patient["id"] for patient in patients],
            "patient_names": [patient["name"][0].get("family") for patient in patients],
            "tasks": task_ids,
            "included": [
                [entry.resource["resourceType"], entry.resource["id"], entry.search["mode"]]
                for entry in included.entry or []
            ],
        }
    )
)
