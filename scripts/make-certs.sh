#!/usr/bin/env bash
# Makes the demo credentials envoy/envoy-mtls-jwt.yaml reads, with openssl and the project's
# virtualenv (PyJWT, cryptography: scripts/requirements-test.txt):
#
#   DIR/ca.crt, ca.key            a certificate authority (EC P-256; every file is valid for $DAYS days, 30 by default)
#   DIR/server.crt, server.key    Envoy's certificate: IP 127.0.0.1, DNS localhost,
#                                 URI spiffe://example.org/ns/iatp/sa/envoy
#   DIR/client.crt, client.key    a caller: URI spiffe://example.org/ns/billing/sa/agent
#   DIR/gateway.crt, gateway.key  a web gateway: DNS gateway.example only (no SPIFFE ID), so
#                                 that the token it forwards names the caller (SPIFFE first)
#   DIR/jwt-signing-key.pem       the identity provider's ES256 signing key (private)
#   DIR/jwks.json                 its public key, the JWKS jwt_authn verifies tokens with
#   DIR/token.jwt                 a token of https://idp.example for subject user-1, tier 2,
#                                 audience iatp-agent, valid for DAYS days
#
# Usage: scripts/make-certs.sh [DIR]   (DIR defaults to certs/, which .gitignore keeps out of
# git). Then, from the repository root:
#   envoy -c envoy/envoy-mtls-jwt.yaml
#   curl --cacert certs/ca.crt --cert certs/client.crt --key certs/client.key \
#        https://127.0.0.1:10443/                                  # the billing agent
#   curl --cacert certs/ca.crt --cert certs/gateway.crt --key certs/gateway.key \
#        -H "authorization: Bearer $(cat certs/token.jwt)" https://127.0.0.1:10443/   # user-1
# Demo material only: the keys are unencrypted and the CA signs anything it is asked to.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DIR="${1:-$ROOT/certs}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
DAYS="${DAYS:-30}"
setup >/dev/null
cd "$DIR"

# One key and certificate: $1 name, $2 subject, $3 subjectAltName, $4 extendedKeyUsage.
issue() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" \
    -subj "$2" -out "$1.csr" 2>/dev/null
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' \
    "$3" "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$DAYS" \
    -sha256 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
  chmod 600 "$1.key"
}

openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
  -subj "/O=IATP demo/CN=IATP demo CA" -days "$DAYS" -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out ca.crt 2>/dev/null
chmod 600 ca.key
issue server "/O=IATP demo/CN=envoy" \
  "IP:127.0.0.1,DNS:localhost,URI:spiffe://example.org/ns/iatp/sa/envoy" serverAuth
issue client "/O=IATP demo/CN=billing agent" \
  "URI:spiffe://example.org/ns/billing/sa/agent" clientAuth
issue gateway "/O=IATP demo/CN=web gateway" "DNS:gateway.example" clientAuth

PY="$VENV/bin/python"
"$PY" "$ROOT/host-tests/py/jwt_tool.py" keys "$DIR" >/dev/null
"$PY" "$ROOT/host-tests/py/jwt_tool.py" token "$DIR/jwt-signing-key.pem" \
  --iss https://idp.example --sub user-1 --aud iatp-agent \
  --claims '{"tier": 2, "permitted_actions": ["read_file"]}' \
  --expires-in $((DAYS * 86400)) >token.jwt
say "credentials in $DIR"
