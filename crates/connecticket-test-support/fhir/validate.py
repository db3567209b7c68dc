"""Validates FHIR R4 resources: HL7's JSON schema, then fhir.resources' models.

Reads a JSON array of resources on stdin; prints `valid N` when all pass,
otherwise one `invalid <index> <type>: <reason>` line per refused resource
and exits 1.
"""

import hashlib
import importlib
import json
import pathlib
import sys

import jsonschema

HERE = pathlib.Path(__file__).resolve().parent


def schema():
    data = (HERE / "fhir.schema.json").read_bytes()
    expected = (HERE / "fhir.schema.json.sha256").read_text().split()[0]
    if hashlib.sha256(data).hexdigest() != expected:
        sys.exit("fhir.schema.json does not match its checksum")
    return json.loads(data)


def model_of(resource_type):
    module = importlib.import_module(
        "fhir.resources.R4B." + resource_type.lower()
    )
    return getattr(module, resource_type)


def main():
    resources = json.load(sys.stdin)
    root = schema()
    whole = jsonschema.Draft6Validator(root)
    refused = 0
    for index, resource in enumerate(resources):
        kind = resource.get("resourceType", "?") if isinstance(resource, dict) else "?"
        # Against the type's own definition first, for a precise reason;
        # then against the whole schema, which also checks the type exists.
        own = {"$ref": f"#/definitions/{kind}", "definitions": root["definitions"]}
        validator = jsonschema.Draft6Validator(own) if kind in root["definitions"] else whole
        errors = list(validator.iter_errors(resource)) or list(whole.iter_errors(resource))
        if errors:
            refused += 1
            best = jsonschema.exceptions.best_match(errors)
            print(f"invalid {index} {kind}: schema: {best.message} at {list(best.absolute_path)}")
            continue
        try:
            model_of(kind).model_validate(resource)
        except Exception as error:  # the library's own validation errors
            refused += 1
            print(f"invalid {index} {kind}: fhir.resources: {error}".replace("\n", " "))
    if refused:
        sys.exit(1)
    print(f"valid {len(resources)}")


main()
