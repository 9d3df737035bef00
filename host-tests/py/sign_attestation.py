"""Ed25519 keys and signed attestation records exactly as the reference IATP SDK makes them.

The SDK is PyPI `agentmesh-trust-protocol` 3.7.0, module `iatp/attestation.py`
(`generate_ed25519_keypair`, `AttestationValidator.create_attestation` and `_verify_signature`)
and `iatp/models` (`AttestationRecord`). It cannot be installed here (its dependency
`agentmesh-primitives<1.0` has no release on PyPI; it also pulls in fastapi), so this module
reproduces it with the `cryptography` package the tests already pin:

  keys        base64 (standard alphabet, padded) of the raw 32-byte Ed25519 keys (RFC 8032):
              the private key's seed and the public key.
  timestamp   `datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")`, e.g.
              `2026-11-30T14:29:40.123456Z` (microseconds; none when they are zero, as
              isoformat() does); `expires_at` is the same form, `expires_in_hours` later.
  signature   base64 (standard, padded) of the Ed25519 signature over the UTF-8 bytes of
              f"{agent_id}:{codebase_hash}:{config_hash}:{timestamp}".
  record      {agent_id, codebase_hash, config_hash, signature, signing_key_id, timestamp,
              expires_at} in this order (pydantic's model_dump() order; expires_at may be null).

Command line (prints one JSON object):

    sign_attestation.py keygen
        {"private_key": B64, "public_key": B64}
    sign_attestation.py sign --private-key B64 --agent-id ID --key-id KID
                             [--codebase-hash H] [--config-hash H] [--timestamp T]
                             [--expires-in-hours N | --expires-at T | --no-expiry]
        the record (hashes default to SHA-256 hex of "codebase" / "config")
    sign_attestation.py verify --public-key B64 [FILE]   (record from FILE or stdin)
        {"valid": bool}: the SDK's check (signature over the message; expiry is not looked at)

As a module: generate_keypair(), create_attestation(...), verify_signature(record, public_key).
"""

import argparse
import base64
import hashlib
import json
import sys
from datetime import datetime, timedelta, timezone

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)


def utc_timestamp(moment=None):
    """The SDK's `_get_utc_timestamp()` form of `moment` (now by default)."""
    moment = moment or datetime.now(timezone.utc)
    return moment.isoformat().replace("+00:00", "Z")


def generate_keypair():
    """(private_key_b64, public_key_b64): raw 32-byte keys, base64, as the SDK's
    `generate_ed25519_keypair()` returns them."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(private).decode(), base64.b64encode(public).decode()


def message(agent_id, codebase_hash, config_hash, timestamp):
    """The signed message: the SDK's f"{agent_id}:{codebase_hash}:{config_hash}:{timestamp}"."""
    return f"{agent_id}:{codebase_hash}:{config_hash}:{timestamp}".encode()


def create_attestation(agent_id, codebase_hash, config_hash, signing_key_id, private_key,
                       timestamp=None, expires_at=None, expires_in_hours=24):
    """A signed record as the SDK's `create_attestation` makes it (`timestamp` and
    `expires_at` may be forced; `expires_in_hours=None` with no `expires_at` gives null)."""
    now = datetime.now(timezone.utc)
    timestamp = timestamp or utc_timestamp(now)
    if expires_at is None and expires_in_hours is not None:
        expires_at = utc_timestamp(now + timedelta(hours=expires_in_hours))
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(private_key))
    signature = key.sign(message(agent_id, codebase_hash, config_hash, timestamp))
    return {
        "agent_id": agent_id,
        "codebase_hash": codebase_hash,
        "config_hash": config_hash,
        "signature": base64.b64encode(signature).decode(),
        "signing_key_id": signing_key_id,
        "timestamp": timestamp,
        "expires_at": expires_at,
    }


def verify_signature(record, public_key):
    """The SDK's `_verify_signature`: True when `signature` is a valid Ed25519 signature of the
    record's message under `public_key` (base64 of the raw 32 bytes)."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key))
        key.verify(
            base64.b64decode(record["signature"]),
            message(record["agent_id"], record["codebase_hash"], record["config_hash"],
                    record["timestamp"]),
        )
        return True
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("keygen")
    s = sub.add_parser("sign")
    s.add_argument("--private-key", required=True)
    s.add_argument("--agent-id", required=True)
    s.add_argument("--key-id", required=True)
    s.add_argument("--codebase-hash", default=hashlib.sha256(b"codebase").hexdigest())
    s.add_argument("--config-hash", default=hashlib.sha256(b"config").hexdigest())
    s.add_argument("--timestamp")
    expiry = s.add_mutually_exclusive_group()
    expiry.add_argument("--expires-in-hours", type=float, default=24)
    expiry.add_argument("--expires-at")
    expiry.add_argument("--no-expiry", action="store_true")
    v = sub.add_parser("verify")
    v.add_argument("--public-key", required=True)
    v.add_argument("file", nargs="?")
    args = p.parse_args()
    if args.command == "keygen":
        private, public = generate_keypair()
        print(json.dumps({"private_key": private, "public_key": public}))
    elif args.command == "sign":
        record = create_attestation(
            args.agent_id, args.codebase_hash, args.config_hash, args.key_id, args.private_key,
            timestamp=args.timestamp, expires_at=args.expires_at,
            expires_in_hours=None if args.no_expiry else args.expires_in_hours,
        )
        print(json.dumps(record))
    else:
        text = open(args.file, encoding="utf-8").read() if args.file else sys.stdin.read()
        print(json.dumps({"valid": verify_signature(json.loads(text), args.public_key)}))


if __name__ == "__main__":
    main()
