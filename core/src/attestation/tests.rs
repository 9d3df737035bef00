use super::*;

/// `fixture.json`: records made and signed by the reference SDK itself (`make_fixture.py`),
/// with a TEST-ONLY key that is published in that file.
fn fixture() -> Value {
    serde_json::from_str(include_str!("fixture.json")).unwrap()
}

fn fixture_str(path: &str) -> String {
    fixture()
        .pointer(path)
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned()
}

fn keys() -> TrustedKeys {
    TrustedKeys::from_base64([("cp-test-1", fixture_str("/public_key_b64").as_str())]).unwrap()
}

fn record(name: &str) -> AttestationRecord {
    AttestationRecord::parse(fixture_str(&format!("/served/{name}")).as_bytes()).unwrap()
}

/// The fixture's TEST-ONLY private key.
fn test_only_secret_key() -> ed25519_compact::SecretKey {
    let seed = decode_base64(&fixture_str("/test_only_private_key_b64")).unwrap();
    let seed = ed25519_compact::Seed::from_slice(&seed).unwrap();
    ed25519_compact::KeyPair::from_seed(seed).sk
}

/// Signs `r` as the SDK's `create_attestation` does (Ed25519 is deterministic, so the same
/// message gives the SDK's bytes: see `signing_matches_the_sdk`).
fn sign(r: &mut AttestationRecord) {
    let message = format!(
        "{}:{}:{}:{}",
        r.agent_id, r.codebase_hash, r.config_hash, r.timestamp
    );
    let signature = test_only_secret_key().sign(message.as_bytes(), None);
    r.signature = encode_base64(signature.as_ref());
}

fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A record signed at `issued` (an RFC 3339 text) by the test key.
fn signed_at(issued: &str, expires_at: Option<&str>) -> AttestationRecord {
    let mut r = record("sdk");
    r.timestamp = issued.to_owned();
    r.expires_at = expires_at.map(str::to_owned);
    sign(&mut r);
    r
}

// Instants of the fixture (Python's `datetime.fromisoformat(...).timestamp()`, truncated to ms).
const SDK_ISSUED: i64 = 1_796_049_614_128; // 2026-11-30T14:40:14.128770Z
const SDK_EXPIRES: i64 = 1_796_136_014_128; // 2026-12-01T14:40:14.128794Z
const UNICODE_ISSUED: i64 = 1_796_049_614_129; // 2026-11-30T14:40:14.129072Z
const UNICODE_EXPIRES: i64 = 1_796_053_214_129; // 2026-11-30T15:40:14.129075Z
const MINUTE: u64 = 60_000;

fn at(ms: i64) -> u64 {
    u64::try_from(ms).unwrap()
}

#[test]
fn sdk_records_verify() {
    let keys = keys();
    let v = verify(
        &record("sdk"),
        &keys,
        at(SDK_ISSUED) + MINUTE,
        DEFAULT_MAX_AGE_MS,
    )
    .unwrap();
    assert_eq!(
        v,
        Verified {
            agent_id: "booking-agent".into(),
            key_id: "cp-test-1".into(),
            issued_unix_ms: SDK_ISSUED,
            // `expires_at` is 24 h and a few µs after `timestamp`: the 24 h bound is earlier.
            expires_unix_ms: SDK_ISSUED + 24 * 3600 * 1000,
        }
    );
    assert_eq!(SDK_EXPIRES, SDK_ISSUED + 24 * 3600 * 1000);

    // Non-ASCII and a control character in the signed message: its UTF-8 bytes are signed.
    let unicode = record("unicode");
    assert_eq!(unicode.agent_id, "agent-é€😀\u{1}");
    let v = verify(&unicode, &keys, at(UNICODE_ISSUED), DEFAULT_MAX_AGE_MS).unwrap();
    assert_eq!(v.agent_id, "agent-é€😀\u{1}");
    assert_eq!(v.expires_unix_ms, UNICODE_EXPIRES);
}

/// `expires_at: null` (the SDK reads it as never expiring): here `timestamp` + max age.
#[test]
fn null_expires_at() {
    let r = record("no_expiry");
    assert_eq!(r.expires_at, None);
    let keys = keys();
    let max_age = 2 * 3600 * 1000;
    let v = verify(&r, &keys, at(SDK_ISSUED), max_age).unwrap();
    assert_eq!(v.expires_unix_ms, SDK_ISSUED + 2 * 3600 * 1000);
    assert!(verify(&r, &keys, at(SDK_ISSUED) + max_age, max_age).is_ok());
    assert_eq!(
        verify(&r, &keys, at(SDK_ISSUED) + max_age + 1, max_age),
        Err(AttestationError::Expired)
    );
    // Absent is the same as null.
    let mut json: Value = serde_json::from_slice(&r.to_json()).unwrap();
    json.as_object_mut().unwrap().remove("expires_at");
    assert_eq!(AttestationRecord::from_value(&json).unwrap(), r);
}

/// Ed25519 is deterministic (RFC 8032 §5.1.6): signing the SDK's message with the same key
/// gives the SDK's signature, so `sign` here makes records the SDK would.
#[test]
fn signing_matches_the_sdk() {
    for name in ["sdk", "unicode", "no_expiry"] {
        let from_sdk = record(name);
        let mut again = from_sdk.clone();
        again.signature.clear();
        sign(&mut again);
        assert_eq!(again, from_sdk, "{name}");
    }
}

/// What the SDK's sidecar serves, byte for byte.
#[test]
fn serves_the_sdk_shape() {
    for name in ["sdk", "unicode", "no_expiry"] {
        let served = fixture_str(&format!("/served/{name}"));
        let r = record(name);
        assert_eq!(String::from_utf8(r.to_json()).unwrap(), served, "{name}");
        // And a serde `Serialize` for embedding in a manifest.
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            fixture()
                .pointer(&format!("/records/{name}"))
                .unwrap()
                .clone()
        );
    }
}

#[test]
fn forged_signature() {
    let keys = keys();
    let now = at(SDK_ISSUED);
    let good = record("sdk");
    let bytes = decode_base64(&good.signature).unwrap();
    for i in [0, 31, 32, 63] {
        let mut forged = bytes.clone();
        forged[i] ^= 0x01;
        let mut r = good.clone();
        r.signature = encode_base64(&forged);
        assert_eq!(
            verify(&r, &keys, now, DEFAULT_MAX_AGE_MS),
            Err(AttestationError::BadSignature),
            "byte {i}"
        );
    }
    // The SDK's "unsigned placeholder" (base64 of the message itself, when it has no key).
    let mut r = good.clone();
    r.signature = encode_base64(
        format!(
            "{}:{}:{}:{}",
            r.agent_id, r.codebase_hash, r.config_hash, r.timestamp
        )
        .as_bytes(),
    );
    assert_eq!(
        verify(&r, &keys, now, DEFAULT_MAX_AGE_MS),
        Err(AttestationError::BadSignature)
    );
    // Signed by another key under the trusted key id.
    let other = ed25519_compact::KeyPair::from_seed(ed25519_compact::Seed::new([7; 32]));
    let mut r = good.clone();
    let message = format!(
        "{}:{}:{}:{}",
        r.agent_id, r.codebase_hash, r.config_hash, r.timestamp
    );
    r.signature = encode_base64(other.sk.sign(message.as_bytes(), None).as_ref());
    assert_eq!(
        verify(&r, &keys, now, DEFAULT_MAX_AGE_MS),
        Err(AttestationError::BadSignature)
    );
    // An all-zero signature (R of small order).
    r.signature = encode_base64(&[0; 64]);
    assert_eq!(
        verify(&r, &keys, now, DEFAULT_MAX_AGE_MS),
        Err(AttestationError::BadSignature)
    );
}

#[test]
fn altered_fields() {
    let keys = keys();
    let now = at(SDK_ISSUED);
    let good = record("sdk");
    let alterations: [fn(&mut AttestationRecord); 5] = [
        |r| r.agent_id.push('x'),
        |r| r.codebase_hash.replace_range(0..1, "0"),
        |r| r.config_hash = r.config_hash.to_uppercase(),
        |r| r.timestamp = r.timestamp.replace(".128770", ".128771"),
        // The same bytes split differently still verify (see the module doc); with the colon
        // moved across a hash it does not.
        |r| {
            r.codebase_hash.push(':');
            r.codebase_hash.push_str(&r.config_hash.clone());
            r.config_hash.clear();
        },
    ];
    for (i, alter) in alterations.iter().enumerate() {
        let mut r = good.clone();
        alter(&mut r);
        assert_eq!(
            verify(&r, &keys, now, DEFAULT_MAX_AGE_MS),
            Err(AttestationError::BadSignature),
            "alteration {i}"
        );
    }
}

/// The ambiguity the module documents: the signed bytes `a:b:c:d:T` verify as agent `a:b` too.
#[test]
fn colon_split_is_the_callers_to_check() {
    let keys = keys();
    let mut r = signed_at("2026-11-30T14:40:14Z", None);
    r.agent_id = "did:web:a".into();
    r.codebase_hash = "h1".into();
    r.config_hash = "h2".into();
    sign(&mut r);
    let now = at(parse_rfc3339_ms("2026-11-30T14:40:14Z").unwrap());
    assert_eq!(
        verify(&r, &keys, now, DEFAULT_MAX_AGE_MS).unwrap().agent_id,
        "did:web:a"
    );
    let mut shifted = r.clone();
    shifted.agent_id = "did:web".into();
    shifted.codebase_hash = "a".into();
    shifted.config_hash = "h1:h2".into();
    assert_eq!(
        verify(&shifted, &keys, now, DEFAULT_MAX_AGE_MS)
            .unwrap()
            .agent_id,
        "did:web"
    );
}

#[test]
fn unknown_key_id() {
    let mut r = record("sdk");
    r.signing_key_id = "cp-test-2".into();
    assert_eq!(
        verify(&r, &keys(), at(SDK_ISSUED), DEFAULT_MAX_AGE_MS),
        Err(AttestationError::UnknownKeyId)
    );
    // Key ids are exact (no case folding).
    r.signing_key_id = "CP-TEST-1".into();
    assert_eq!(
        verify(&r, &keys(), at(SDK_ISSUED), DEFAULT_MAX_AGE_MS),
        Err(AttestationError::UnknownKeyId)
    );
    assert_eq!(
        verify(
            &record("sdk"),
            &TrustedKeys::default(),
            at(SDK_ISSUED),
            DEFAULT_MAX_AGE_MS
        ),
        Err(AttestationError::UnknownKeyId)
    );
}

#[test]
fn expired() {
    let keys = keys();
    let r = record("unicode"); // expires_at one hour after its timestamp
    assert!(verify(&r, &keys, at(UNICODE_EXPIRES), DEFAULT_MAX_AGE_MS).is_ok());
    assert_eq!(
        verify(&r, &keys, at(UNICODE_EXPIRES) + 1, DEFAULT_MAX_AGE_MS),
        Err(AttestationError::Expired)
    );
    // A maximum age shorter than `expires_at` wins.
    assert_eq!(
        verify(&r, &keys, at(UNICODE_ISSUED) + MINUTE + 1, MINUTE),
        Err(AttestationError::Expired)
    );
    // `expires_at` is not signed: moving it later verifies but cannot extend the life past
    // `timestamp` + max age; moving it earlier shortens it.
    let mut later = record("sdk");
    later.expires_at = Some("9999-12-31T23:59:59.999999Z".into());
    let v = verify(&later, &keys, at(SDK_ISSUED), DEFAULT_MAX_AGE_MS).unwrap();
    assert_eq!(v.expires_unix_ms, SDK_ISSUED + 24 * 3600 * 1000);
    assert_eq!(
        verify(
            &later,
            &keys,
            at(SDK_ISSUED) + DEFAULT_MAX_AGE_MS + 1,
            DEFAULT_MAX_AGE_MS
        ),
        Err(AttestationError::Expired)
    );
    let mut earlier = record("sdk");
    earlier.expires_at = Some("2026-11-30T14:40:14.127Z".into());
    assert_eq!(
        verify(&earlier, &keys, at(SDK_ISSUED), DEFAULT_MAX_AGE_MS),
        Err(AttestationError::Expired)
    );
    // An old record.
    let old = signed_at("2020-01-01T00:00:00Z", None);
    assert_eq!(
        verify(&old, &keys, at(SDK_ISSUED), DEFAULT_MAX_AGE_MS),
        Err(AttestationError::Expired)
    );
}

#[test]
fn not_yet_valid() {
    let keys = keys();
    let r = signed_at("2026-11-30T14:45:00Z", None);
    let issued = parse_rfc3339_ms("2026-11-30T14:45:00Z").unwrap();
    // Up to five minutes ahead is clock skew.
    assert!(verify(
        &r,
        &keys,
        at(issued) - MAX_CLOCK_SKEW_MS,
        DEFAULT_MAX_AGE_MS
    )
    .is_ok());
    assert_eq!(
        verify(
            &r,
            &keys,
            at(issued) - MAX_CLOCK_SKEW_MS - 1,
            DEFAULT_MAX_AGE_MS
        ),
        Err(AttestationError::NotYetValid)
    );
    let far = signed_at("2099-01-01T00:00:00+00:00", None);
    assert_eq!(
        verify(&far, &keys, at(SDK_ISSUED), DEFAULT_MAX_AGE_MS),
        Err(AttestationError::NotYetValid)
    );
    // Time 0 and the largest `now`: no overflow.
    assert_eq!(
        verify(&r, &keys, 0, DEFAULT_MAX_AGE_MS),
        Err(AttestationError::NotYetValid)
    );
    assert_eq!(
        verify(&r, &keys, u64::MAX, u64::MAX),
        Ok(Verified {
            agent_id: "booking-agent".into(),
            key_id: "cp-test-1".into(),
            issued_unix_ms: issued,
            expires_unix_ms: i64::MAX,
        })
    );
}

#[test]
fn malformed_timestamps() {
    let keys = keys();
    // Signed, so the signature passes and the timestamp's reading fails.
    for bad in [
        "2026-11-30 14:40:14Z",
        "2026-11-30T14:40:14",
        "2026-11-30T14:40:14.Z",
        "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-11-30T24:00:00Z",
        "2026-11-30T23:59:60Z",
        "2026-11-30T14:40:14+0000",
        "2026-11-30T14:40:14+24:00",
        "1796049614128",
        "",
    ] {
        let r = signed_at(bad, None);
        assert_eq!(
            verify(&r, &keys, at(SDK_ISSUED), DEFAULT_MAX_AGE_MS),
            Err(AttestationError::BadTimestamp("timestamp")),
            "{bad:?}"
        );
    }
    let mut r = record("sdk");
    r.expires_at = Some("tomorrow".into());
    assert_eq!(
        verify(&r, &keys, at(SDK_ISSUED), DEFAULT_MAX_AGE_MS),
        Err(AttestationError::BadTimestamp("expires_at"))
    );
    // `+00:00` (Python's own `isoformat()`) and other offsets are read as instants.
    let r = signed_at("2026-11-30T16:40:14.128770+02:00", None);
    let v = verify(&r, &keys, at(SDK_ISSUED), DEFAULT_MAX_AGE_MS).unwrap();
    assert_eq!(v.issued_unix_ms, SDK_ISSUED);
}

#[test]
fn rfc3339_readings() {
    for (text, ms) in [
        ("1970-01-01T00:00:00Z", 0),
        ("2026-11-30T14:40:14.128770Z", SDK_ISSUED),
        ("2026-11-30T14:40:14.128770+00:00", SDK_ISSUED),
        ("2026-11-30t14:40:14.128770z", SDK_ISSUED),
        ("2026-11-30T16:40:14.5+02:00", 1_796_049_614_500),
        ("2026-11-30T12:10:14.5-02:30", 1_796_049_614_500),
        ("2000-02-29T23:59:59Z", 951_868_799_000),
        ("1969-12-31T23:59:59.999+00:00", -1),
        ("9999-12-31T23:59:59.999999Z", 253_402_300_799_999),
        ("0000-01-01T00:00:00Z", -62_167_219_200_000),
        ("2026-11-30T14:40:14.1Z", 1_796_049_614_100),
        ("2026-11-30T14:40:14.123456789123Z", 1_796_049_614_123),
    ] {
        assert_eq!(parse_rfc3339_ms(text), Some(ms), "{text}");
    }
    for bad in [
        "2026-11-30T14:40:14Z ",
        " 2026-11-30T14:40:14Z",
        "2026-11-30T14:40:14ZZ",
        "2026-11-30T14:40:14+02:00:00",
        "2026-11-30T14:40:14+2:00",
        "2026-11-31T00:00:00Z",
        "1900-02-29T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-11-00T00:00:00Z",
        "+2026-11-30T14:40:14Z",
        "2026-11-30T14:4a:14Z",
        "2026-11-30T14:40:14.12a Z",
        "２026-11-30T14:40:14Z",
    ] {
        assert_eq!(parse_rfc3339_ms(bad), None, "{bad:?}");
    }
}

#[test]
fn bad_base64_and_length_of_signature() {
    let keys = keys();
    let good = record("sdk");
    let sig = good.signature.clone();
    let bytes = decode_base64(&sig).unwrap();
    for bad in [
        String::new(),
        "not base64!".to_owned(),
        sig.trim_end_matches('=').to_owned(),
        format!("{sig}\n"),
        format!(" {sig}"),
        sig.replace('/', "_").replace('+', "-"),
        encode_base64(&bytes[..63]),
        encode_base64(&[bytes.as_slice(), &[0]].concat()),
    ] {
        let mut r = good.clone();
        r.signature = bad.clone();
        assert_eq!(
            verify(&r, &keys, at(SDK_ISSUED), DEFAULT_MAX_AGE_MS),
            Err(AttestationError::BadSignature),
            "{bad:?}"
        );
    }
}

/// RFC 4648 §10's test vectors, and what strict decoding refuses.
#[test]
fn base64_decoding() {
    for (text, bytes) in [
        ("", &b""[..]),
        ("Zg==", b"f"),
        ("Zm8=", b"fo"),
        ("Zm9v", b"foo"),
        ("Zm9vYg==", b"foob"),
        ("Zm9vYmE=", b"fooba"),
        ("Zm9vYmFy", b"foobar"),
        ("+/+/", &[0xfb, 0xff, 0xbf]),
    ] {
        assert_eq!(decode_base64(text).as_deref(), Some(bytes), "{text}");
        assert_eq!(encode_base64(bytes), text);
    }
    for bad in [
        "Zg", "Zg=", "Zh==", "Zm9=", "Zg==Zg==", "=Zg=", "Z===", "Zm9v\n", "Zm 9", "-_-_", "Zé==",
    ] {
        assert_eq!(decode_base64(bad), None, "{bad:?}");
    }
}

#[test]
fn trusted_keys_errors_name_the_key_id() {
    let good = fixture_str("/public_key_b64");
    let key = decode_base64(&good).unwrap();
    let cases = [
        ("", good.clone(), KeyErrorKind::EmptyId),
        (
            "k".repeat(257).leak() as &str,
            good.clone(),
            KeyErrorKind::IdTooLong,
        ),
        ("cp-2", "not base64".to_owned(), KeyErrorKind::Base64),
        (
            "cp-2",
            good.trim_end_matches('=').to_owned(),
            KeyErrorKind::Base64,
        ),
        ("cp-2", encode_base64(&key[..31]), KeyErrorKind::Length),
        (
            "cp-2",
            encode_base64(&[key.as_slice(), &[0]].concat()),
            KeyErrorKind::Length,
        ),
        ("cp-2", String::new(), KeyErrorKind::Length),
        // The identity point (small order): would verify forged signatures.
        (
            "cp-2",
            encode_base64(&{
                let mut p = [0u8; 32];
                p[0] = 1;
                p
            }),
            KeyErrorKind::InvalidPoint,
        ),
        // Not a point: y = 2^255 - 1 (non-canonical), or no x for this y.
        (
            "cp-2",
            encode_base64(&[0xff; 32]),
            KeyErrorKind::InvalidPoint,
        ),
    ];
    for (id, b64, kind) in cases {
        let err =
            TrustedKeys::from_base64([("cp-1", good.as_str()), (id, b64.as_str())]).unwrap_err();
        assert_eq!(
            err,
            KeyError {
                key_id: id.to_owned(),
                kind
            },
            "{id} {b64}"
        );
        let message = err.to_string();
        assert!(message.contains(&format!("{id:?}")), "{message}");
        if !b64.is_empty() {
            assert!(!message.contains(&b64), "{message}");
        }
    }
    assert_eq!(
        TrustedKeys::from_base64([("k".repeat(256).as_str(), good.as_str())]).map(|k| k.len()),
        Ok(1)
    );
    let keys = TrustedKeys::from_base64([("a", good.as_str()), ("b", good.as_str())]).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(!keys.is_empty());
    assert!(TrustedKeys::from_base64([]).unwrap().is_empty());
}

#[test]
fn parse_errors() {
    let served = fixture_str("/served/sdk");
    let good: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(
        AttestationRecord::parse(&vec![b' '; MAX_RECORD_BYTES + 1]),
        Err(AttestationError::TooLarge)
    );
    for bad in [
        "",
        "[]",
        "[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",null]",
        "\"x\"",
        "null",
        "{",
        "{\"agent_id\":1",
        "{\"agent_id\":\"a\",\"agent_id\":\"b\"}",
    ] {
        assert_eq!(
            AttestationRecord::parse(bad.as_bytes()),
            Err(AttestationError::Malformed),
            "{bad}"
        );
    }
    let members = [
        ("agent_id", MAX_ID_BYTES),
        ("codebase_hash", MAX_FIELD_BYTES),
        ("config_hash", MAX_FIELD_BYTES),
        ("signature", MAX_FIELD_BYTES),
        ("signing_key_id", MAX_ID_BYTES),
        ("timestamp", MAX_TIMESTAMP_BYTES),
    ];
    for (member, max) in members {
        let with = |v: Option<Value>| {
            let mut o = good.clone();
            match v {
                Some(v) => o[member] = v,
                None => {
                    o.as_object_mut().unwrap().remove(member);
                }
            }
            // The two readers agree: from bytes (serde, no `Value`) and from a `Value`.
            let from_value = AttestationRecord::from_value(&o);
            let bytes = serde_json::to_vec(&o).unwrap();
            assert_eq!(AttestationRecord::parse(&bytes), from_value, "{o}");
            from_value
        };
        assert_eq!(with(None), Err(AttestationError::Missing(member)));
        assert_eq!(
            with(Some(Value::Null)),
            Err(AttestationError::NotAString(member))
        );
        assert_eq!(
            with(Some(serde_json::json!(1))),
            Err(AttestationError::NotAString(member))
        );
        assert_eq!(
            with(Some(serde_json::json!(["x"]))),
            Err(AttestationError::NotAString(member))
        );
        assert_eq!(
            with(Some(Value::String("x".repeat(max + 1)))),
            Err(AttestationError::TooLong(member))
        );
        assert!(with(Some(Value::String("x".repeat(max)))).is_ok());
    }
    let both = |o: &Value| {
        let from_value = AttestationRecord::from_value(o);
        assert_eq!(
            AttestationRecord::parse(&serde_json::to_vec(o).unwrap()),
            from_value
        );
        from_value
    };
    let mut o = good.clone();
    o["expires_at"] = serde_json::json!(1_796_136_014);
    assert_eq!(both(&o), Err(AttestationError::NotAString("expires_at")));
    o["expires_at"] = Value::String("x".repeat(MAX_TIMESTAMP_BYTES + 1));
    assert_eq!(both(&o), Err(AttestationError::TooLong("expires_at")));
    // Unknown members are ignored.
    let mut o = good.clone();
    o["version"] = serde_json::json!({"nested": [1, 2]});
    o["attested_by"] = serde_json::json!("cp");
    assert_eq!(both(&o).unwrap(), record("sdk"));
    assert_eq!(
        AttestationRecord::from_value(&serde_json::json!([1])),
        Err(AttestationError::Malformed)
    );
    // A record of exactly the bound parses.
    let padded = format!("{served:<width$}", width = MAX_RECORD_BYTES);
    assert_eq!(
        AttestationRecord::parse(padded.as_bytes()).unwrap(),
        record("sdk")
    );
}

/// Error texts are fixed: nothing from the record (an agent id, a signature) reaches a log.
#[test]
fn error_texts_carry_no_values() {
    let all = [
        AttestationError::TooLarge,
        AttestationError::Malformed,
        AttestationError::Missing("agent_id"),
        AttestationError::NotAString("signature"),
        AttestationError::TooLong("timestamp"),
        AttestationError::UnknownKeyId,
        AttestationError::BadSignature,
        AttestationError::BadTimestamp("expires_at"),
        AttestationError::NotYetValid,
        AttestationError::Expired,
    ];
    let mut names = std::collections::BTreeSet::new();
    for e in all {
        assert!(names.insert(e.as_str()), "{}", e.as_str());
        let text = e.to_string();
        assert!(
            !text.contains("booking-agent") && !text.contains("cp-test-1"),
            "{text}"
        );
    }
    assert_eq!(
        AttestationError::Expired.to_string(),
        "attestation has expired"
    );
    assert_eq!(
        AttestationError::Missing("agent_id").to_string(),
        "attestation record has no `agent_id`"
    );
}
