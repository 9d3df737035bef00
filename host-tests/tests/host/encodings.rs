//! Issue 10, classes 2 to 4, through a real Envoy: values hidden by look-alike characters,
//! separators, JSON number forms, percent-encoding, base64, hex, multipart parts and UTF-16 are
//! blocked or redacted, and no original byte of them reaches the event line or the agent.

use serde_json::{json, Value};

use crate::harness::{Request, Stack};

/// Cards and SSNs are blocked, e-mail addresses warned about.
fn config(action: &str) -> Value {
    json!({
        "manifest": {"identity": {"agent_id": "enc"}, "trust_level": "trusted",
                     "privacy": {"retention": "ephemeral"}},
        "policy": {"block_rules": [
            {"name": "ssn", "condition": "has_ssn", "action": action},
            {"name": "card", "condition": "has_credit_card", "action": action},
            {"name": "mail", "condition": "has_email", "action": if action == "block" { "warn" } else { action }}
        ]}
    })
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for g in bytes.chunks(3) {
        let n = g.iter().fold(0u32, |a, &b| a << 8 | u32::from(b)) << (8 * (3 - g.len()));
        for k in 0..=g.len() {
            out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
        }
        out.extend(std::iter::repeat_n('=', 3 - g.len()));
    }
    out
}

fn utf16le_bom(s: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// Sends `body` with trace id `trace`, expects `status` and `rule`, and that the `request`
/// event's payload holds none of `hidden` (the value as the request wrote it).
fn refused(
    stack: &Stack,
    trace: &str,
    req: Request,
    status: u16,
    detected: &str,
    hidden: &str,
) -> Value {
    let r = stack.send(req.header("x-agent-trace-id", trace));
    assert_eq!(r.status, status, "{trace}: {}", r.text());
    if status == 403 {
        assert_eq!(r.json()["detected"], json!([detected]), "{trace}");
    }
    assert!(!r.text().contains(hidden), "{trace}: {}", r.text());
    let events = stack.events_for(trace, 2);
    let request = &events[0];
    assert_eq!(request["type"], "request");
    assert_eq!(request["detected"], json!([detected]), "{trace}");
    let line = request.to_string();
    let payload = request["payload"].as_str().unwrap_or_default();
    assert!(!payload.contains(hidden), "{trace}: {payload}");
    assert!(!line.contains(hidden), "{trace}: {line}");
    request.clone()
}

#[test]
fn look_alike_characters_and_separators_do_not_hide_values() {
    let stack = Stack::with_plugin(&config("block"));
    let cases = [
        ("nbsp", "4111\u{a0}1111\u{a0}1111\u{a0}1111", "credit_card"),
        ("narrow-nbsp", "4111\u{202f}1111\u{202f}1111\u{202f}1111", "credit_card"),
        ("zwsp", "4111\u{200b}1111\u{200b}1111\u{200b}1111", "credit_card"),
        ("soft-hyphen", "123\u{ad}45\u{ad}6789", "ssn"),
        ("fullwidth", "\u{ff14}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}\u{ff11}", "credit_card"),
        ("arabic-indic", "\u{661}\u{662}\u{663}-\u{664}\u{665}-\u{666}\u{667}\u{668}\u{669}", "ssn"),
        ("dots", "4111.1111.1111.1111", "credit_card"),
        ("slashes", "4111/1111/1111/1111", "credit_card"),
        ("escaped-newlines", r"4111\n1111\n1111\n1111", "credit_card"),
        ("escaped-nbsp", r"4111\u00a01111\u00a01111\u00a01111", "credit_card"),
    ];
    for (name, value, kind) in cases {
        let trace = format!("fold-{name}");
        let body = format!(r#"{{"note":"ssn or card: {value} please"}}"#);
        let line = refused(&stack, &trace, Request::post("/x", body), 403, kind, value);
        let placeholder = format!("[{}_REDACTED]", kind.to_uppercase());
        assert!(
            line["payload"].as_str().unwrap().contains(&placeholder),
            "{name}: {line}"
        );
        stack.assert_never_reached_agent(&trace);
    }
    // A fullwidth at sign in an address: warned about, scrubbed.
    refused(
        &stack,
        "fold-at",
        Request::post("/x", r#"{"to":"jane.doe＠example.com"}"#),
        449,
        "email",
        "jane.doe＠example.com",
    );
}

#[test]
fn json_numbers_percent_encoding_base64_and_hex_do_not_hide_values() {
    let stack = Stack::with_plugin(&config("block"));
    for (name, number) in [
        ("fraction", "4111111111111111.0"),
        ("exponent", "4.111111111111111e15"),
    ] {
        refused(
            &stack,
            &format!("num-{name}"),
            Request::post("/x", format!(r#"{{"amount":{number}}}"#)),
            403,
            "credit_card",
            number,
        );
    }
    refused(
        &stack,
        "pct-json",
        Request::post("/x", r#"{"url":"mailto:ann%40example.com"}"#),
        449,
        "email",
        "ann%40example.com",
    );
    let path = refused(
        &stack,
        "pct-twice",
        Request::get("/find?who=ann%2540example.com"),
        449,
        "email",
        "ann%2540example.com",
    );
    assert_eq!(path["path"], "/find?who=[EMAIL_REDACTED]");
    let card64 = b64(b"4111111111111111");
    refused(
        &stack,
        "b64",
        Request::post("/x", format!(r#"{{"blob":"{card64}"}}"#)),
        403,
        "credit_card",
        &card64,
    );
    let ssn_hex: String = b"123-45-6789".iter().map(|b| format!("{b:02x}")).collect();
    refused(
        &stack,
        "hex",
        Request::post("/x", format!(r#"{{"blob":"{ssn_hex}"}}"#)),
        403,
        "ssn",
        &ssn_hex,
    );
    // A base64 part of a multipart upload, in MIME lines.
    let part = b64(b"Dear team,\r\nplease charge card 4111 1111 1111 1111 for the booking.\r\n");
    let lines: Vec<&str> = part
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let part = lines.join("\r\n");
    let body = format!(
        "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"note.txt\"\r\n\
         Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n{part}\r\n--XyZ--\r\n"
    );
    let line = refused(
        &stack,
        "multipart",
        Request::new("POST", "/upload")
            .header("content-type", "multipart/form-data; boundary=XyZ")
            .body(body),
        403,
        "credit_card",
        lines[0],
    );
    for l in &lines {
        assert!(!line.to_string().contains(l), "{line}");
    }
}

#[test]
fn utf16_bodies_are_scanned_and_redacted_in_their_encoding() {
    let stack = Stack::with_plugin(&config("block"));
    let body = utf16le_bom(r#"{"ssn":"123-45-6789"}"#);
    let r = stack.send(
        Request::new("POST", "/x")
            .header("content-type", "application/json; charset=utf-16")
            .header("x-agent-trace-id", "utf16-block")
            .body(&body),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let events = stack.events_for("utf16-block", 2);
    assert_eq!(events[0]["payload"], r#"{"ssn":"[SSN_REDACTED]"}"#);
    assert_eq!(events[0]["body_bytes"], body.len());
    // Without a byte order mark or a charset: the NUL pattern of RFC 4627 tells.
    let bare: Vec<u8> = "card 4111 1111 1111 1111"
        .encode_utf16()
        .flat_map(u16::to_le_bytes)
        .collect();
    let r = stack.send(Request::new("POST", "/x").body(&bare));
    assert_eq!(r.status, 403, "{}", r.text());

    let stack = Stack::with_plugin(&config("redact"));
    let body = utf16le_bom(r#"{"card":"4111 1111 1111 1111","n":4111111111111111,"x":"é"}"#);
    let r = stack.send(
        Request::new("POST", "/x")
            .header("content-type", "application/json; charset=utf-16")
            .header("x-agent-trace-id", "utf16-redact")
            .body(&body),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = &stack.agent_requests_for("utf16-redact")[0];
    let want = utf16le_bom(r#"{"card":"[CREDIT_CARD]","n":"[CREDIT_CARD]","x":"é"}"#);
    let want_hex: String = want.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(got["body_hex"], want_hex);
    assert_eq!(got["headers"]["content-length"], want.len().to_string());
    let events = stack.events_for("utf16-redact", 3);
    // The values, not "1111" alone: a line's hash may hold those digits.
    let text = serde_json::to_string(&events).unwrap();
    assert!(
        !text.contains("4111 1111") && !text.contains("4111111111111111"),
        "{text}"
    );

    // An ASCII body labelled UTF-16: its text holds nothing, its bytes (as the agent reads
    // them) hold a card. A redaction of the text would forward the card: refused instead, and
    // no payload (the text would show the digits as other characters).
    let r = stack.send(
        Request::post("/u", r#"{"card":"4111111111111111","n":"xy"}"#)
            .header("content-type", "application/json; charset=utf-16")
            .header("x-agent-trace-id", "utf16-label"),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(
        r.json()["error"],
        "Request blocked: its body reads two ways (its charset and its bytes) and cannot be redacted"
    );
    stack.assert_never_reached_agent("utf16-label");
    let events = stack.events_for("utf16-label", 2);
    assert!(events[0].get("payload").is_none(), "{}", events[0]);
    assert_eq!(events[1]["type"], "blocked");
}

/// The close variants a second round of attacks found: JSON in a tool call's `arguments`
/// (escaped twice), fractions a double drops, a UTF-8 byte order mark before JSON, a negative
/// number under redaction, a base64 token before a line of text.
#[test]
fn close_variants_of_the_classes_are_seen_through_too() {
    let stack = Stack::with_plugin(&config("block"));
    let tool_call = |args: &str| {
        json!({"messages": [{"role": "assistant", "tool_calls": [
            {"function": {"name": "pay", "arguments": args}}]}]})
        .to_string()
    };
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "v-args-escaped",
            tool_call("{\"card\":\"\\u0034111 1111 1111 1111\"}").into_bytes(),
            "credit_card",
        ),
        (
            "v-args-fullwidth",
            tool_call("{\"card\":\"\\uff14\\uff11\\uff11\\uff11 1111 1111 1111\"}").into_bytes(),
            "credit_card",
        ),
        (
            "v-double-rounding",
            br#"{"amount":4111111111111111.2}"#.to_vec(),
            "credit_card",
        ),
        (
            "v-utf8-bom",
            b"\xEF\xBB\xBF{\"a\":4111111111111111.0}".to_vec(),
            "credit_card",
        ),
        (
            "v-hex-then-text",
            b"{\"x\":\"34313131313131313131313131313131\\nok\"}".to_vec(),
            "credit_card",
        ),
    ];
    for (trace, body, kind) in cases {
        let req = Request::post("/v", body);
        refused(&stack, trace, req, 403, kind, "4111111111111111");
    }
    // Round 3 of the same classes: underscores between groups, base64 pasted with spaces,
    // UTF-16 inside base64, a braille blank and combining marks on digits. Neither the value
    // as written nor its encoded form reaches the event line.
    let spaced = spaced_b64();
    let utf16 = b64(&utf16le_bom("card 4111 1111 1111 1111"));
    let round3: Vec<(&str, String, &str)> = vec![
        (
            "v-underscores",
            r#"{"card":"4111_1111_1111_1111"}"#.to_string(),
            "4111_1111",
        ),
        (
            "v-b64-spaced",
            format!(r#"{{"note":"{spaced}"}}"#),
            &spaced[..24],
        ),
        (
            "v-b64-utf16",
            format!(r#"{{"blob":"{utf16}"}}"#),
            &utf16[..24],
        ),
        (
            "v-braille-blank",
            "{\"card\":\"4111\u{2800}1111\u{2800}1111\u{2800}1111\"}".to_string(),
            "1111\u{2800}1111",
        ),
        (
            "v-combining",
            "{\"card\":\"4\u{301}111 1111 1111 1111\"}".to_string(),
            "111 1111 1111",
        ),
    ];
    // Round 4: a harmless token joined to the value's token by a space, a percent escape
    // cutting a hex token.
    let decoy = format!("{} {}", b64(b"foobarbazqux"), b64(b"4111111111111111"));
    let round4: Vec<(&str, String, &str)> = vec![
        ("v-decoy", format!(r#"{{"t":"{decoy}"}}"#), &decoy[17..]),
        (
            "v-percent-hex",
            r#"{"t":"see %34313131313131313131313131313131"}"#.to_string(),
            "313131313131",
        ),
    ];
    for (trace, body, hidden) in round3.into_iter().chain(round4) {
        let req = Request::post("/v", body);
        refused(&stack, trace, req, 403, "credit_card", hidden);
    }
    // Redaction keeps a negative number's body JSON.
    let stack = Stack::with_plugin(&config("redact"));
    let r = stack.send(
        Request::post("/v", r#"{"a":-4111111111111111}"#)
            .header("content-type", "application/json")
            .header("x-agent-trace-id", "v-negative"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let got = stack.agent_requests_for("v-negative");
    let body: Value = serde_json::from_str(got[0]["body"].as_str().unwrap()).expect("JSON");
    assert_eq!(body["a"], "[CREDIT_CARD]");
}

/// Escapes whose decoded views would take more memory than the scan allows (eight times the
/// body and 1 MiB): the request is refused, never forwarded unscanned, and the VM, which
/// used to run out of memory on such bodies, goes on serving. Ordinary escaped text of the
/// same size is scanned.
#[test]
fn bodies_too_complex_to_scan_get_413_and_the_filter_goes_on() {
    let cfg = with_limit(config("block"), 16 << 20);
    let stack = Stack::with_plugin(&cfg);
    let card = "4111 1111 1111 1111";
    for (trace, repeat) in [("complex-1m", (1 << 17) + 100), ("complex-12m", 3 << 19)] {
        let body = format!(r#"{{"t":"{card} {}"}}"#, r"\u0041\\".repeat(repeat));
        let r = stack.send(
            Request::post("/c", &body)
                .header("content-type", "application/json")
                .header("x-agent-trace-id", trace),
        );
        assert_eq!(r.status, 413, "{trace}: {}", r.text());
        assert_eq!(
            r.json(),
            json!({"error": "request too complex to scan", "part": "body",
                   "limit": "decoded views of at most 8 times its size and 1 MiB",
                   "trace_id": trace})
        );
        let events = stack.events_for(trace, 2);
        assert_eq!(events[0]["type"], "request");
        assert!(events[0].get("payload").is_none(), "{}", events[0]);
        assert_eq!(events[0]["body_bytes"], body.len());
        assert_eq!(events[1]["type"], "error");
        assert_eq!(events[1]["status"], 413);
        stack.assert_never_reached_agent(trace);
    }
    // The VM is still there, and scans 4 MiB of escaped Cyrillic whole.
    let text = r"\u043f\u0440\u0438\u0432\u0435\u0442 ".repeat(4 << 20 >> 5);
    let body = format!(r#"{{"t":"{text}","n":"{card}"}}"#);
    let req = Request::post("/c", body).header("content-type", "application/json");
    refused(&stack, "cyrillic-4m", req, 403, "credit_card", "4111 1111");
    let r = stack.send(Request::post("/c", r#"{"t":"ok"}"#));
    assert_eq!(r.status, 200, "{}", r.text());
}

/// A base64 block pasted into one line: groups of 16 joined by single spaces.
fn spaced_b64() -> String {
    let b = b64(b"Name: Ann, card 4111 1111 1111 1111, see you soon! Regards, Ann.");
    let groups: Vec<&str> = b
        .as_bytes()
        .chunks(16)
        .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
        .collect();
    groups.join(" ")
}

fn with_limit(mut v: Value, max_body_bytes: u64) -> Value {
    v["limits"] = json!({ "max_body_bytes": max_body_bytes });
    v
}
