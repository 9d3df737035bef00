//! Credentials made at test time, for the mTLS + JWT stack (envoy/envoy-mtls-jwt.yaml): a CA,
//! Envoy's server certificate, client certificates with the URI SANs a test asks for (SPIFFE
//! IDs), a JWT signing key with its JWKS, and signed tokens.
//!
//! Certificates come from the `openssl` command line (no Rust TLS crate to build: the same
//! commands as `scripts/make-certs.sh`, EC P-256, valid for 2 days); keys, JWKS and tokens from
//! `host-tests/py/jwt_tool.py` (PyJWT + cryptography, pinned in scripts/requirements-test.txt).
//! The files are laid out as `scripts/make-certs.sh` lays out `certs/`, so that the shipped
//! configuration's `certs/...` paths point at them once localized.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use super::paths;

/// The SPIFFE ID the default client certificate carries.
pub const BILLING: &str = "spiffe://example.org/ns/billing/sa/agent";
/// The issuer and audience `envoy/envoy-mtls-jwt.yaml`'s jwt_authn provider accepts.
pub const ISSUER: &str = "https://idp.example";
pub const AUDIENCE: &str = "iatp-agent";

/// A client's certificate and key, for the HTTPS clients.
#[derive(Debug, Clone)]
pub struct ClientCert {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The credentials of one stack, in `<dir>/certs/`.
pub struct Credentials {
    pub dir: PathBuf,
    /// The CA Envoy trusts for client certificates, and that signed Envoy's own certificate
    /// (the clients verify Envoy with it).
    pub ca: PathBuf,
    /// `client.crt`: URI SAN [`BILLING`].
    pub client: ClientCert,
}

impl Credentials {
    /// Makes the CA, `server.crt` (IP 127.0.0.1, DNS localhost), `client.crt` ([`BILLING`]),
    /// `jwt-signing-key.pem` and `jwks.json` (ES256) under `<dir>/certs/`.
    pub fn make(dir: &Path) -> Credentials {
        let dir = dir.join("certs");
        fs::create_dir_all(&dir).unwrap();
        openssl(
            &dir,
            "req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
             -subj /CN=iatp-host-tests-CA -days 2 -sha256 \
             -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
             -out ca.crt",
        );
        let creds = Credentials {
            ca: dir.join("ca.crt"),
            client: ClientCert {
                cert: dir.join("client.crt"),
                key: dir.join("client.key"),
            },
            dir,
        };
        creds.issue(
            "server",
            "/CN=envoy",
            "IP:127.0.0.1,DNS:localhost,URI:spiffe://example.org/ns/iatp/sa/envoy",
            "serverAuth",
            None,
        );
        creds.issue(
            "client",
            "/CN=billing-agent",
            &format!("URI:{BILLING}"),
            "clientAuth",
            None,
        );
        jwt_tool(&["keys", creds.dir.to_str().unwrap()]);
        creds
    }

    /// A client certificate with these subject alternative names, in openssl's syntax
    /// (`URI:spiffe://...`, `DNS:name`; several, comma-separated, in order).
    pub fn client_with_sans(&self, sans: &str) -> ClientCert {
        let name = unique("client");
        self.issue(&name, "/CN=test-client", sans, "clientAuth", None);
        self.files(&name)
    }

    /// A server certificate (`serverAuth`) named `name` in this directory with these SANs
    /// (openssl's syntax, e.g. `DNS:localhost`), signed by the CA; for an HTTPS upstream.
    pub fn server_with_sans(&self, name: &str, sans: &str) -> ClientCert {
        self.issue(name, "/CN=test-server", sans, "serverAuth", None);
        self.files(name)
    }

    /// A client certificate with these SANs, signed by a CA that Envoy does not trust.
    pub fn client_of_another_ca(&self, sans: &str) -> ClientCert {
        let ca = unique("rogue-ca");
        openssl(
            &self.dir,
            &format!(
                "req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {ca}.key \
                 -subj /CN=rogue-CA -days 2 -sha256 -addext basicConstraints=critical,CA:TRUE \
                 -out {ca}.crt"
            ),
        );
        let name = unique("rogue-client");
        self.issue(&name, "/CN=rogue-client", sans, "clientAuth", Some(&ca));
        self.files(&name)
    }

    fn files(&self, name: &str) -> ClientCert {
        ClientCert {
            cert: self.dir.join(format!("{name}.crt")),
            key: self.dir.join(format!("{name}.key")),
        }
    }

    fn issue(&self, name: &str, subject: &str, sans: &str, usage: &str, ca: Option<&str>) {
        let ca = ca.unwrap_or("ca");
        openssl(
            &self.dir,
            &format!(
                "req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout {name}.key \
                 -subj {subject} -out {name}.csr"
            ),
        );
        let ext = format!(
            "subjectAltName={sans}\nextendedKeyUsage={usage}\nbasicConstraints=critical,CA:FALSE\n"
        );
        fs::write(self.dir.join(format!("{name}.ext")), ext).unwrap();
        openssl(
            &self.dir,
            &format!(
                "x509 -req -in {name}.csr -CA {ca}.crt -CAkey {ca}.key -CAcreateserial -days 2 \
                 -sha256 -extfile {name}.ext -out {name}.crt"
            ),
        );
    }

    /// A token signed with this stack's key (ES256, kid `iatp-test`).
    pub fn token(&self, spec: &Token) -> String {
        let key = self.dir.join("jwt-signing-key.pem");
        self.token_signed_by(&key, spec)
    }

    /// A token signed with a fresh key of the same kid that the JWKS does not hold.
    pub fn token_of_another_key(&self, spec: &Token) -> String {
        let other = self.dir.join(unique("other-key"));
        jwt_tool(&["keys", other.to_str().unwrap()]);
        self.token_signed_by(&other.join("jwt-signing-key.pem"), spec)
    }

    fn token_signed_by(&self, key: &Path, spec: &Token) -> String {
        let claims = spec.claims.to_string();
        let expires = spec.expires_in.to_string();
        let mut args = vec![
            "token",
            key.to_str().unwrap(),
            "--iss",
            &spec.issuer,
            "--claims",
            &claims,
            "--expires-in",
            &expires,
        ];
        if let Some(sub) = &spec.subject {
            args.extend(["--sub", sub.as_str()]);
        }
        if let Some(aud) = &spec.audience {
            args.extend(["--aud", aud.as_str()]);
        }
        if spec.tamper {
            args.push("--tamper");
        }
        jwt_tool(&args).trim().to_string()
    }
}

/// What a token says. [`Token::valid`] is accepted by the shipped provider; each field can be
/// changed to make one that is not.
#[derive(Debug, Clone)]
pub struct Token {
    pub issuer: String,
    pub subject: Option<String>,
    pub audience: Option<String>,
    /// Extra claims (a JSON object), e.g. `{"tier": 2, "permitted_actions": ["read_file"]}`.
    pub claims: Value,
    /// Seconds from now; negative for a token that has expired. Envoy allows 60 s of clock
    /// skew by default, so an expired token must be older than that.
    pub expires_in: i64,
    /// Change the payload after signing (the signature no longer matches).
    pub tamper: bool,
}

impl Token {
    pub fn valid(subject: &str) -> Token {
        Token {
            issuer: ISSUER.into(),
            subject: Some(subject.into()),
            audience: Some(AUDIENCE.into()),
            claims: serde_json::json!({}),
            expires_in: 3600,
            tamper: false,
        }
    }

    pub fn claims(mut self, claims: Value) -> Token {
        self.claims = claims;
        self
    }

    pub fn expired(mut self) -> Token {
        self.expires_in = -600;
        self
    }

    pub fn issuer(mut self, issuer: &str) -> Token {
        self.issuer = issuer.into();
        self
    }

    pub fn audience(mut self, audience: Option<&str>) -> Token {
        self.audience = audience.map(str::to_string);
        self
    }

    pub fn tampered(mut self) -> Token {
        self.tamper = true;
        self
    }
}

fn unique(prefix: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{prefix}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// Runs `openssl` in `dir` with `args`, split at whitespace (no argument holds a space).
fn openssl(dir: &Path, args: &str) {
    let args: Vec<&str> = args.split_whitespace().collect();
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(&args)
        .output()
        .expect("the openssl command line (install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn jwt_tool(args: &[&str]) -> String {
    let out = Command::new(paths::python())
        .arg(paths::repo().join("host-tests/py/jwt_tool.py"))
        .args(args)
        .output()
        .expect("python for jwt_tool.py");
    assert!(
        out.status.success(),
        "jwt_tool.py {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
