use super::*;
use serde_json::{json, Number};

fn canon(text: &str) -> String {
    let value: Value = serde_json::from_str(text).unwrap();
    String::from_utf8(canonicalize(&value)).unwrap()
}

fn canon_text(text: &str) -> String {
    String::from_utf8(canonicalize_json(text).unwrap()).unwrap()
}

fn num(x: f64) -> String {
    String::from_utf8(canonicalize(&Value::Number(Number::from_f64(x).unwrap()))).unwrap()
}

/// RFC 8785 Appendix B: IEEE 754 bit patterns and their canonical text (the two non-finite
/// rows have no `serde_json::Value`).
#[test]
fn rfc8785_appendix_b_numbers() {
    let table = [
        (0x0000000000000000_u64, "0"),
        (0x8000000000000000, "0"),
        (0x0000000000000001, "5e-324"),
        (0x8000000000000001, "-5e-324"),
        (0x7fefffffffffffff, "1.7976931348623157e+308"),
        (0xffefffffffffffff, "-1.7976931348623157e+308"),
        (0x4340000000000000, "9007199254740992"),
        (0xc340000000000000, "-9007199254740992"),
        (0x4430000000000000, "295147905179352830000"),
        (0x44b52d02c7e14af5, "9.999999999999997e+22"),
        (0x44b52d02c7e14af6, "1e+23"),
        (0x44b52d02c7e14af7, "1.0000000000000001e+23"),
        (0x444b1ae4d6e2ef4e, "999999999999999700000"),
        (0x444b1ae4d6e2ef4f, "999999999999999900000"),
        (0x444b1ae4d6e2ef50, "1e+21"),
        (0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"),
        (0x3eb0c6f7a0b5ed8d, "0.000001"),
        (0x41b3de4355555553, "333333333.3333332"),
        (0x41b3de4355555554, "333333333.33333325"),
        (0x41b3de4355555555, "333333333.3333333"),
        (0x41b3de4355555556, "333333333.3333334"),
        (0x41b3de4355555557, "333333333.33333343"),
        (0xbecbf647612f3696, "-0.0000033333333333333333"),
        (0x43143ff3c1cb0959, "1424953923781206.2"),
    ];
    for (bits, want) in table {
        assert_eq!(num(f64::from_bits(bits)), want, "{bits:016x}");
        // A canonical text reads back as itself.
        assert_eq!(canon_text(want), want, "{bits:016x}");
    }
}

/// 2,000 random doubles and 200 integers as V8 (Node 20) writes them: `v8_numbers.js` made
/// `v8_numbers.csv` (`node v8_numbers.js > v8_numbers.csv`).
#[test]
fn v8_differential_corpus() {
    let corpus = include_str!("v8_numbers.csv");
    let mut n = 0;
    for line in corpus.lines() {
        let (input, want) = line.split_once(',').unwrap();
        let got = if let Some(int) = input.strip_prefix('u') {
            String::from_utf8(canonicalize(&json!(int.parse::<u64>().unwrap()))).unwrap()
        } else {
            num(f64::from_bits(u64::from_str_radix(input, 16).unwrap()))
        };
        assert_eq!(got, want, "{input}");
        assert_eq!(canon_text(want), want, "{input}");
        if let Some(int) = input.strip_prefix('u') {
            assert_eq!(canon_text(int), want, "{input}");
        }
        n += 1;
    }
    assert_eq!(n, 2200);
}

/// The brief's and ECMAScript's boundaries: plain notation for 1e-7 < |x| < 1e21.
#[test]
fn number_notation_boundaries() {
    assert_eq!(num(1e21), "1e+21");
    assert_eq!(num(1e20), "100000000000000000000");
    assert_eq!(num(123456789012345680000.0), "123456789012345680000");
    assert_eq!(num(1e-7), "1e-7");
    assert_eq!(num(1.5e-7), "1.5e-7");
    assert_eq!(num(0.000001), "0.000001");
    assert_eq!(num(0.0000015), "0.0000015");
    assert_eq!(num(100.0), "100");
    assert_eq!(num(-0.0), "0");
    assert_eq!(num(-1.5), "-1.5");
    assert_eq!(num(0.1), "0.1");
    assert_eq!(num(1.0), "1");
    assert_eq!(num(12.5), "12.5");
    assert_eq!(num(5e-324), "5e-324");
    // Out of a double's range: serde_json refuses it, so no `Value` holds an infinity.
    assert!(serde_json::from_str::<Value>("1E400").is_err());
}

/// Integers as serde_json reads them (`u64`, `i64`): exact up to 2^53, beyond that the double
/// they round to (I-JSON, RFC 7493 §2.2).
#[test]
fn integers() {
    assert_eq!(canon("0"), "0");
    assert_eq!(canon("-0"), "0");
    assert_eq!(canon("42"), "42");
    assert_eq!(canon("-42"), "-42");
    assert_eq!(canon("9007199254740992"), "9007199254740992");
    assert_eq!(canon("9007199254740993"), "9007199254740992");
    assert_eq!(canon("18446744073709551615"), "18446744073709552000");
    assert_eq!(canon("-9223372036854775808"), "-9223372036854776000");
    assert_eq!(canon("1.0"), "1");
    assert_eq!(canon("1e2"), "100");
    assert_eq!(canon("-0.0"), "0");
}

/// RFC 8785 §3.2.3: members sorted by UTF-16 code units, so U+1F600 (surrogates D83D DE00)
/// sorts before U+FB33.
#[test]
fn rfc8785_sorting_example() {
    let input = r#"{
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }"#;
    assert_eq!(
        canon(input),
        "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\u{80}\":\"Control\",\
         \"\u{f6}\":\"Latin Small Letter O With Diaeresis\",\"\u{20ac}\":\"Euro Sign\",\
         \"\u{1f600}\":\"Emoji: Grinning Face\",\"\u{fb33}\":\"Hebrew Letter Dalet With Dagesh\"}"
    );
}

/// RFC 8785 §3.2.2's sample input, its canonical text and UTF-8 bytes (§3.2.4).
#[test]
fn rfc8785_sample() {
    let input = r#"{
      "numbers": [333333333.33333329, 1E30, 4.50,
                  2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }"#;
    let want = "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,\
                1e-27],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}";
    assert_eq!(canon_text(input), want);
    // The same as the RFC's hex dump of the UTF-8 bytes.
    let hex = "7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 \
               75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a \
               5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 \
               65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 \
               5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30 \
               30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d";
    let bytes: Vec<u8> = hex
        .split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    assert_eq!(canonicalize_json(input).unwrap(), bytes);
    // Through a `Value`, serde_json's best-effort float reading (no `float_roundtrip`) is one
    // unit in the last place off for `333333333.33333329`: why `canonicalize_json` exists.
    assert_eq!(
        canon(input),
        want.replace("333333333.3333333", "333333333.33333325")
    );
}

/// RFC 8785 §3.2.2.2: only the seven short escapes and `\u00xx` for other controls; `/`,
/// U+007F, U+2028 and non-ASCII stay literal.
#[test]
fn string_escapes() {
    let all_controls: String = (0u8..0x20).map(char::from).collect();
    assert_eq!(
        String::from_utf8(canonicalize(&json!(all_controls))).unwrap(),
        "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\
         \\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\
         \\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\""
    );
    assert_eq!(
        String::from_utf8(canonicalize(&json!("a\"b\\c/d\u{7f}\u{2028}é😀"))).unwrap(),
        "\"a\\\"b\\\\c/d\u{7f}\u{2028}é😀\""
    );
    // Escaped input is read and written canonically.
    assert_eq!(canon(r#""\u0041\u00e9\/""#), "\"Aé/\"");
}

#[test]
fn structure_and_nesting() {
    assert_eq!(canon("[]"), "[]");
    assert_eq!(canon("{}"), "{}");
    assert_eq!(canon(" [ 1 , [ ] , { } ] "), "[1,[],{}]");
    assert_eq!(
        canon(r#"{"b": {"z": 1, "a": [3, 2, {"y": null, "x": true}]}, "a": "s"}"#),
        r#"{"a":"s","b":{"a":[3,2,{"x":true,"y":null}],"z":1}}"#
    );
    // Names are compared as code units, not as text: upper case before lower case, a prefix
    // before its extensions.
    assert_eq!(
        canon(r#"{"b":1,"B":2,"ab":3,"a":4,"":5}"#),
        r#"{"":5,"B":2,"a":4,"ab":3,"b":1}"#
    );
    // Members whose names escape are sorted by their values, not their escaped text.
    assert_eq!(canon(r#"{"\u0062":1,"\u0061":2}"#), r#"{"a":2,"b":1}"#);
}

/// A canonical text is a fixed point: canonicalizing it again gives the same bytes.
#[test]
fn idempotent() {
    for text in [
        r#"{"numbers":[333333333.33333329,1E30,4.50,2e-3,1e-27],"s":"\u000f"}"#,
        r#"{"€":1,"😀":2,"דּ":3,"nested":{"k":[1e21,1e-7,-0.0]}}"#,
    ] {
        let once = canon(text);
        assert_eq!(canon(&once), once);
    }
}

#[test]
fn digest_is_sha256_lower_hex() {
    // FIPS 180-2 / NIST example: SHA-256("abc").
    assert_eq!(
        digest(b"abc"),
        "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        digest(b""),
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let bytes = canonicalize(&json!({"b": 1, "a": 2}));
    assert_eq!(bytes, br#"{"a":2,"b":1}"#);
    assert_eq!(digest(&bytes), digest(br#"{"a":2,"b":1}"#));
}

#[test]
fn parse_digest_accepts_either_case_of_hex() {
    let want = sha256(b"abc");
    let lower = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(parse_digest(lower), Ok(want));
    assert_eq!(
        parse_digest(&lower.to_ascii_uppercase().replace("SHA256", "sha256")),
        Ok(want)
    );
    assert!(digest_matches(lower, &want));
    assert!(digest_matches(&digest(b"abc"), &want));
}

#[test]
fn parse_digest_errors() {
    let hex = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    assert_eq!(parse_digest(hex), Err(DigestError::Algorithm));
    assert_eq!(
        parse_digest(&format!("SHA256:{hex}")),
        Err(DigestError::Algorithm)
    );
    assert_eq!(
        parse_digest(&format!("sha512:{hex}")),
        Err(DigestError::Algorithm)
    );
    assert_eq!(
        parse_digest(&format!(" sha256:{hex}")),
        Err(DigestError::Algorithm)
    );
    assert_eq!(parse_digest("sha256:"), Err(DigestError::Length));
    assert_eq!(
        parse_digest(&format!("sha256:{hex}0")),
        Err(DigestError::Length)
    );
    assert_eq!(
        parse_digest(&format!("sha256:{hex} ")),
        Err(DigestError::Length)
    );
    assert_eq!(
        parse_digest(&format!("sha256:{}", hex.get(..63).unwrap())),
        Err(DigestError::Length)
    );
    let mut bad = hex.to_owned();
    bad.replace_range(10..11, "g");
    assert_eq!(
        parse_digest(&format!("sha256:{bad}")),
        Err(DigestError::NotHex)
    );
    // 64 bytes but not 64 characters: a multi-byte character never splits into hex.
    let multibyte = format!("sha256:é{}", hex.get(..62).unwrap());
    assert_eq!(parse_digest(&multibyte), Err(DigestError::NotHex));
    assert_eq!(DigestError::NotHex.as_str(), "not_hex");
    assert!(!digest_matches(&format!("sha256:{bad}"), &sha256(b"abc")));
}

#[test]
fn digests_compare_every_byte() {
    let a = sha256(b"abc");
    assert!(digests_equal(&a, &a));
    for i in 0..32 {
        let mut b = a;
        b[i] ^= 0x01;
        assert!(!digests_equal(&a, &b), "byte {i}");
        assert!(!digest_matches(&digest(b"abd"), &a));
    }
}

/// The two entry points agree wherever serde_json reads the numbers exactly.
#[test]
fn text_and_value_agree() {
    for text in [
        r#"{"b": {"z": 1, "a": [3, 2.5, {"y": null, "x": true}]}, "a": "s\u000f"}"#,
        r#"[1e21, 1e-7, -0, 0.1, 100, 18446744073709551615, -9223372036854775808]"#,
        r#"{"€":1,"😀":2,"דּ":3}"#,
        r#""plain""#,
        "true",
        " null ",
        "\t[ ]\n",
    ] {
        assert_eq!(canon_text(text), canon(text), "{text}");
    }
}

#[test]
fn text_errors() {
    assert_eq!(canonicalize_json(""), Err(CanonicalError::Json));
    assert_eq!(canonicalize_json("{"), Err(CanonicalError::Json));
    assert_eq!(canonicalize_json("[1,]"), Err(CanonicalError::Json));
    assert_eq!(canonicalize_json("1 2"), Err(CanonicalError::Json));
    assert_eq!(canonicalize_json("NaN"), Err(CanonicalError::Json));
    assert_eq!(canonicalize_json("01"), Err(CanonicalError::Json));
    // RFC 8785 §3.2.2.2: a lone surrogate is an error.
    assert_eq!(canonicalize_json(r#""\ud800""#), Err(CanonicalError::Json));
    assert_eq!(
        canonicalize_json(r#"{"\udc00":1}"#),
        Err(CanonicalError::Json)
    );
    assert!(serde_json::from_str::<Value>(r#""\ud800""#).is_err());
    // RFC 8785 §3.2.2.3: no form for a number beyond a double's range.
    assert_eq!(canonicalize_json("1e400"), Err(CanonicalError::NumberRange));
    assert_eq!(
        canonicalize_json("[-1e400]"),
        Err(CanonicalError::NumberRange)
    );
    // Below the smallest subnormal: the nearest double is 0, as in ECMAScript.
    assert_eq!(canon_text("1e-400"), "0");
    // Duplicate names, also when spelled differently, and nested.
    assert_eq!(
        canonicalize_json(r#"{"a":1,"a":2}"#),
        Err(CanonicalError::DuplicateName)
    );
    assert_eq!(
        canonicalize_json(r#"{"a":1,"\u0061":2}"#),
        Err(CanonicalError::DuplicateName)
    );
    assert_eq!(
        canonicalize_json(r#"[{"x":{"k":1,"j":2,"k":3}}]"#),
        Err(CanonicalError::DuplicateName)
    );
    assert_eq!(CanonicalError::DuplicateName.as_str(), "duplicate_name");
    // Nesting: up to 128 levels, as serde_json's own limit for a `Value`.
    let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
    assert_eq!(canon_text(&deep), deep);
    let too_deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
    assert_eq!(canonicalize_json(&too_deep), Err(CanonicalError::TooDeep));
    assert!(serde_json::from_str::<Value>(&too_deep).is_err());
    let very_deep = format!("{}{}", "[{\"a\":".repeat(50_000), "}]".repeat(50_000));
    // (serde_json may refuse this one itself; either way no stack overflow.)
    assert!(matches!(
        canonicalize_json(&very_deep),
        Err(CanonicalError::TooDeep | CanonicalError::Json)
    ));
}

/// Ties between two shortest forms go to the even digit (ECMA-262 `Number::toString`), and
/// powers of two keep a shortest form that reads back.
#[test]
fn ties_and_powers_of_two() {
    assert_eq!(
        num(f64::from_bits(0x43106566da1320f1)),
        "1153773011781692.2"
    );
    let power_of_two = |e: i64| {
        if e >= -1022 {
            f64::from_bits(((e + 1023) as u64) << 52)
        } else {
            f64::from_bits(1u64 << (e + 1074))
        }
    };
    for e in -1074..=1023 {
        let x = power_of_two(e);
        let text = num(x);
        assert_eq!(text.parse::<f64>().unwrap(), x, "2^{e}");
    }
    assert_eq!(num(power_of_two(-1074)), "5e-324");
    assert_eq!(num(power_of_two(70)), "1.1805916207174113e+21");
    assert_eq!(num(power_of_two(60)), "1152921504606847000");
}

/// The merge sort against the standard library's, on names that exercise UTF-16 order
/// (characters below U+D800, at U+E000..U+FFFF and above U+FFFF) and stability.
#[test]
fn utf16_order_matches_a_reference_sort() {
    let alphabet = [
        "a",
        "b",
        "",
        "\u{7f}",
        "é",
        "\u{ffff}",
        "\u{e000}",
        "😀",
        "\u{10000}",
        "A",
    ];
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for n in 0..40 {
        for _ in 0..20 {
            let names: Vec<String> = (0..n)
                .map(|_| {
                    let len = next() % 4;
                    (0..len)
                        .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                        .collect()
                })
                .collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let mut want: Vec<usize> = (0..n).collect();
            want.sort_by(|&a, &b| refs[a].encode_utf16().cmp(refs[b].encode_utf16()));
            assert_eq!(utf16_order(&refs), want, "{refs:?}");
        }
    }
}
