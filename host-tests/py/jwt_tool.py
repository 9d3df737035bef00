"""Signing keys, their JWKS, and signed JWTs, for the host tests and the mTLS + JWT demo
(envoy/envoy-mtls-jwt.yaml). Uses PyJWT and cryptography (pinned in
scripts/requirements-test.txt).

    jwt_tool.py keys DIR [--alg ES256|RS256] [--kid KID]
        writes DIR/jwt-signing-key.pem (PKCS#8, private) and DIR/jwks.json (the public key as a
        JSON Web Key Set, RFC 7517), and prints the JWKS.
    jwt_tool.py token KEY.pem --iss ISS [--sub SUB] [--aud AUD] [--claims JSON]
                      [--expires-in SECONDS] [--tamper] [--alg ES256|RS256] [--kid KID]
        prints one compact JWS (RFC 7515) whose payload is {iss, sub, aud, iat, exp} plus the
        JSON object CLAIMS. A negative --expires-in gives a token that has already expired;
        --tamper changes the payload after signing (the signature no longer verifies).
"""

import argparse
import base64
import json
import os
import sys
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def keys(a):
    if a.alg == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": a.kid, "alg": a.alg, "use": "sig"})
    os.makedirs(a.dir, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = os.path.join(a.dir, "jwt-signing-key.pem")
    with open(path, "wb") as f:
        f.write(pem)
    os.chmod(path, 0o600)
    jwks = {"keys": [jwk]}
    with open(os.path.join(a.dir, "jwks.json"), "w") as f:
        json.dump(jwks, f, indent=2)
        f.write("\n")
    print(json.dumps(jwks))


def token(a):
    with open(a.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    now = int(time.time())
    payload = {"iss": a.iss, "iat": now - 5, "exp": now + a.expires_in}
    if a.sub is not None:
        payload["sub"] = a.sub
    if a.aud is not None:
        payload["aud"] = a.aud
    payload.update(json.loads(a.claims))
    tok = jwt.encode(payload, key, algorithm=a.alg, headers={"kid": a.kid})
    if a.tamper:
        head, body, sig = tok.split(".")
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        claims["tampered"] = True
        tok = ".".join([head, b64url(json.dumps(claims, separators=(",", ":")).encode()), sig])
    print(tok)


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keys")
    k.add_argument("dir")
    k.add_argument("--alg", default="ES256", choices=["ES256", "RS256"])
    k.add_argument("--kid", default="iatp-test")
    t = sub.add_parser("token")
    t.add_argument("key")
    t.add_argument("--iss", required=True)
    t.add_argument("--sub")
    t.add_argument("--aud")
    t.add_argument("--claims", default="{}")
    t.add_argument("--expires-in", type=int, default=3600)
    t.add_argument("--tamper", action="store_true")
    t.add_argument("--alg", default="ES256", choices=["ES256", "RS256"])
    t.add_argument("--kid", default="iatp-test")
    a = p.parse_args()
    {"keys": keys, "token": token}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
