"""Makes fixture.json for core/src/attestation/tests.rs with the reference IATP SDK itself.

TEST ONLY. The Ed25519 private key below is derived from a public string and signs nothing but
these fixtures; it is published here on purpose and must never be trusted by a deployment.

Usage: python make_fixture.py SDK_DIR > fixture.json
  SDK_DIR: the unpacked wheel of PyPI `agentmesh-trust-protocol` 3.7.0 (holds `iatp/`).
Needs `cryptography` and `pydantic` (v2). Loads `iatp.models` and `iatp.attestation` without the
package's `__init__` (which imports optional dependencies these two modules do not use).
"""
import base64
import hashlib
import json
import sys
import types

sdk_dir = sys.argv[1]
package = types.ModuleType("iatp")
package.__path__ = [sdk_dir + "/iatp"]
sys.modules["iatp"] = package

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import (  # noqa: E402
    Encoding,
    PublicFormat,
)

from iatp.attestation import AttestationValidator  # noqa: E402

# TEST ONLY: a published seed.
seed = hashlib.sha256(b"iatp-filter attestation test fixture, never a real key").digest()
private_b64 = base64.b64encode(seed).decode()
public_b64 = base64.b64encode(
    Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
).decode()
key_id = "cp-test-1"

validator = AttestationValidator({key_id: public_b64})
records = {}

# Exactly as a control plane using the SDK signs: `create_attestation` (24 h lifetime).
records["sdk"] = validator.create_attestation(
    agent_id="booking-agent",
    codebase_hash=validator.compute_codebase_hash("print('hello')"),
    config_hash=hashlib.sha256(b"{}").hexdigest(),
    signing_key_id=key_id,
    private_key=private_b64,
)
# Non-ASCII and a control character in the signed fields: the message is their UTF-8 bytes.
records["unicode"] = validator.create_attestation(
    agent_id="agent-\u00e9\u20ac\U0001f600\u0001",
    codebase_hash="c" * 64,
    config_hash="d" * 64,
    signing_key_id=key_id,
    private_key=private_b64,
    expires_in_hours=1,
)
# `expires_at` is not signed: the same record with it null still verifies in the SDK.
records["no_expiry"] = records["sdk"].model_copy(update={"expires_at": None})

for name, record in records.items():
    ok, err = validator.validate_attestation(record)
    assert ok, (name, err)

out = {
    "_comment": "TEST ONLY. Made by make_fixture.py with the reference IATP SDK 3.7.0; the key is published and signs only these fixtures.",
    "test_only_private_key_b64": private_b64,
    "public_key_b64": public_b64,
    "key_id": key_id,
    "records": {name: r.model_dump() for name, r in records.items()},
    # What the SDK's sidecar serves at /.well-known/agent-attestation (FastAPI's JSONResponse).
    "served": {
        name: json.dumps(r.model_dump(), ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        for name, r in records.items()
    },
}
print(json.dumps(out, indent=2, ensure_ascii=False))
