#!/usr/bin/env python3
"""Derives the request shapes weir-kafka checks before decoding from Apache Kafka's message
definitions (clients/src/main/resources/common/message/*Request.json in a Kafka checkout).

    scripts/kafka-shapes.py KAFKA/clients/src/main/resources/common/message \
        > crates/weir-kafka/src/shapes.json

Only what a walk over the bytes needs is kept: each field's type, the versions it is present
its tag and tagged versions when tagged (a null is told by its length). Add a request's name to REQUESTS when the broker starts
serving it.
"""

import json
import os
import sys

REQUESTS = [
    "ProduceRequest", "FetchRequest", "ListOffsetsRequest", "MetadataRequest",
    "OffsetCommitRequest", "OffsetFetchRequest", "FindCoordinatorRequest", "JoinGroupRequest",
    "HeartbeatRequest", "LeaveGroupRequest", "SyncGroupRequest", "DescribeGroupsRequest",
    "ListGroupsRequest", "SaslHandshakeRequest", "ApiVersionsRequest", "CreateTopicsRequest",
    "DeleteTopicsRequest", "InitProducerIdRequest", "DescribeConfigsRequest",
    "AlterConfigsRequest", "SaslAuthenticateRequest", "CreatePartitionsRequest",
    "DeleteGroupsRequest", "IncrementalAlterConfigsRequest", "DescribeClusterRequest",
]
TOP = 32767


def strip_comments(text):
    """Drops // comments outside strings (Kafka's files are JSON with comments)."""
    out, i, in_str = [], 0, False
    while i < len(text):
        c = text[i]
        if in_str:
            out.append(c)
            if c == "\\":
                out.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            out.append(c)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def versions(spec):
    if spec is None or spec == "none":
        return None
    if spec.endswith("+"):
        return [int(spec[:-1]), TOP]
    if "-" in spec:
        lo, hi = spec.split("-")
        return [int(lo), int(hi)]
    return [int(spec), int(spec)]


def shape(field, structs):
    t = field["type"]
    out = {}
    element = t[2:] if t.startswith("[]") else None
    base = element or t
    if base in structs or "fields" in field:
        fields = field.get("fields") or structs[base]
        inner = {"t": "{}", "f": [shape(f, structs) for f in fields]}
    else:
        inner = {"t": base}
    if element is not None:
        out["t"] = "[]"
        out["e"] = inner
    else:
        out.update(inner)
    out["v"] = versions(field.get("versions"))
    if field.get("taggedVersions"):
        out["tv"] = versions(field["taggedVersions"])
    if "tag" in field:
        out["tag"] = field["tag"]
    return out


def main():
    folder = sys.argv[1]
    shapes = {}
    for name in REQUESTS:
        with open(os.path.join(folder, name + ".json")) as f:
            spec = json.loads(strip_comments(f.read()))
        structs = {s["name"]: s["fields"] for s in spec.get("commonStructs", [])}
        shapes[str(spec["apiKey"])] = {
            "name": name,
            "flexible": versions(spec.get("flexibleVersions")),
            "f": [shape(f, structs) for f in spec["fields"]],
        }
    json.dump(shapes, sys.stdout, separators=(",", ":"), sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
