//! What `header('name')`, `claim('name')` and `mcp_arg('path')` read: the [`Lookup`] a
//! request's [`Facts`](super::Facts) carry, and how a found value reads as a string. Names and
//! paths are compiled when the configuration loads (a header name lower-cased and checked, a
//! path split into [`ArgStep`]s); evaluating allocates nothing: a number's JSON text is written
//! into a buffer on the stack.

use serde_json::Value as Json;

use crate::protocol::fold;

/// Where a request's looked-up values come from. The exchange implements it over what it kept
/// of the request (only the names the rules use: [`Uses`](super::Uses)); absent lookups
/// ([`Facts`](super::Facts) without one) are every value absent.
pub trait Lookup {
    /// The value of the request header `name` (given lower-case, as HTTP/2 and Envoy write
    /// header names; pseudo-headers such as `:authority` too). Several fields of that name are
    /// one value, joined with `, ` in their order (RFC 9110 §5.3); a value that is not UTF-8
    /// is given lossily converted. `None` when the request has no such header (rules read
    /// `''`).
    fn header(&self, name: &str) -> Option<&str>;

    /// The verified JWT claim `name` (a top-level member of the payload that Envoy's
    /// `jwt_authn` verified; never of an unverified token), `None` when absent or when the
    /// caller's identity has no JWT.
    fn claim(&self, name: &str) -> Option<&Json>;

    /// The value at `path` in the MCP `tools/call` request's `params.arguments`
    /// ([`ArgStep::walk`] does the walk), `None` when absent or when the body is no such
    /// request.
    fn mcp_arg(&self, path: &[ArgStep]) -> Option<&Json>;
}

/// One step of an `mcp_arg` path: a member name, which also indexes an array when it is a
/// decimal number (`0`, `12`; not `01`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgStep {
    key: Box<str>,
    index: Option<usize>,
}

impl ArgStep {
    /// The member name (the step as written).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The array index, when the step is a decimal number.
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// The value `steps` lead to from `root`: an object's member by [`key`](Self::key) (else
    /// the one an agent's case-insensitive parser would take for it: Go's `encoding/json`
    /// matches `PATH` to a `path` field; the folding is the protocol's ambiguity check's, which
    /// has already refused two members that fold alike), an array's item by
    /// [`index`](Self::index); `None` when a step finds nothing (a member missing, an index past
    /// the end, a step into a string, number, bool or null).
    pub fn walk<'v>(root: &'v Json, steps: &[ArgStep]) -> Option<&'v Json> {
        steps.iter().try_fold(root, |v, step| match v {
            Json::Object(map) => map.get(&*step.key).or_else(|| {
                let want = fold(&step.key);
                map.iter().find(|(k, _)| fold(k) == want).map(|(_, v)| v)
            }),
            Json::Array(items) => items.get(step.index?),
            _ => None,
        })
    }

    /// A dotted path (`path`, `files.0.name`) as steps; `Err` with the 1-based position (in
    /// characters) of an empty step.
    pub(super) fn parse_path(path: &str) -> Result<Box<[ArgStep]>, usize> {
        let mut steps = Vec::new();
        let mut at = 1usize;
        for part in path.split('.') {
            if part.is_empty() {
                return Err(at);
            }
            let index = (part.bytes().all(|b| b.is_ascii_digit())
                && (part.len() == 1 || !part.starts_with('0')))
            .then(|| part.parse::<usize>().ok())
            .flatten();
            steps.push(ArgStep {
                key: part.into(),
                index,
            });
            at += part.chars().count() + 1;
        }
        Ok(steps.into_boxed_slice())
    }
}

/// Whether `name` is a header name a request can carry: an RFC 9110 §5.6.2 token, or `:` and
/// a token (an HTTP/2 pseudo-header, RFC 9113 §8.3, such as `:authority`).
pub(super) fn is_header_name(name: &str) -> bool {
    let token = name.strip_prefix(':').unwrap_or(name);
    !token.is_empty()
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A looked-up value as rules read it: borrowed, the JSON text of a number (written on the
/// stack), or a text made for this evaluation (an array's or object's JSON text,
/// `normalize_path()`).
pub(super) enum Text<'a> {
    Str(&'a str),
    Number(NumberText),
    Owned(String),
}

impl Text<'_> {
    pub(super) fn as_str(&self) -> &str {
        match self {
            Text::Str(s) => s,
            Text::Number(n) => n.as_str(),
            Text::Owned(s) => s,
        }
    }
}

/// Room for the longest JSON text of an `f64` (`-2.2250738585072014e-308`, 24 bytes) and of
/// an `i64`/`u64` (20 bytes).
const NUMBER_ROOM: usize = 32;

pub(super) struct NumberText {
    bytes: [u8; NUMBER_ROOM],
    len: usize,
}

impl NumberText {
    fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }
}

impl std::fmt::Write for NumberText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let room = self.bytes.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        room.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The largest magnitude below which every whole `f64` is an exact integer (2^53).
const EXACT_F64: f64 = 9_007_199_254_740_992.0;

/// A JSON value as a string: a string as is; a number or `true`/`false` as its JSON text (a
/// whole number without a fraction, `3`, also when it is carried as the double `3.0`, as a
/// protobuf `Struct` carries every number); an object or an array as its compact JSON text
/// (`["/etc/passwd"]`: a tool that takes a list, or a runtime that turns it into a string,
/// may still read the value, so a rule can see it, `contains(…, '/etc/')`); `null` as `''`.
pub(super) fn json_text(v: &Json) -> Text<'_> {
    use std::fmt::Write;
    match v {
        Json::String(s) => Text::Str(s),
        Json::Bool(true) => Text::Str("true"),
        Json::Bool(false) => Text::Str("false"),
        Json::Number(n) => {
            let mut out = NumberText {
                bytes: [0; NUMBER_ROOM],
                len: 0,
            };
            let written = match (n.as_i64(), n.as_u64(), n.as_f64()) {
                (Some(i), _, _) => write!(out, "{i}"),
                (None, Some(u), _) => write!(out, "{u}"),
                // Whole and within ±2^53: the cast is exact.
                (None, None, Some(f)) if f.fract() == 0.0 && f.abs() < EXACT_F64 => {
                    write!(out, "{}", f as i64)
                }
                _ => write!(out, "{n}"),
            };
            match written {
                Ok(()) => Text::Number(out),
                Err(_) => Text::Str(""),
            }
        }
        Json::Array(_) | Json::Object(_) => Text::Owned(v.to_string()),
        Json::Null => Text::Str(""),
    }
}

/// How a path function resolves a path: as a POSIX system does (`normalize_path()`) or as
/// Windows does (`normalize_windows_path()`). The agent's platform decides: `\` is a
/// separator on Windows and a character of a file name everywhere else, so one resolution
/// cannot serve both (`/x\y/../etc` is `/etc` on Linux and `/x/etc` on Windows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    Posix,
    Windows,
}

impl PathStyle {
    pub fn normalize(self, path: &str) -> String {
        match self {
            PathStyle::Posix => normalize_path(path),
            PathStyle::Windows => normalize_windows_path(path),
        }
    }
}

/// A path as a POSIX system resolves it, lexically (`normalize_path()`): repeated `/` as one,
/// `.` segments dropped, `..` removing the segment before it (RFC 3986 §5.2.4's
/// `remove_dot_segments`, applied to file paths, as Python's `os.path.normpath` and Node's
/// `path.posix.normalize` do; never above the root: `/../etc` is `/etc`; a relative path keeps
/// its leading `..`), no trailing `/`. `\` is an ordinary character of a name, as on Linux and
/// macOS. Case and percent escapes are kept: a tool reads its argument as a file name. `''`
/// stays `''`; a path that resolves to nothing is `.` (relative) or `/` (absolute).
pub fn normalize_path(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let absolute = path.starts_with('/');
    let joined = resolve(path.split('/'), absolute).join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// A path as Windows resolves it, lexically (`normalize_windows_path()`): `\` and `/` both
/// separators; the `\\?\` and `\\.\` prefixes (Win32 device and long paths) dropped; a
/// drive (`C:`) or a UNC share (`\\server\share`) is the root, which `..` never climbs
/// above; `.` and `..` resolved as for [`normalize_path`]; written with `/` and in lower case
/// (Windows file names are case-insensitive), so rules compare with lower-case literals.
pub fn normalize_windows_path(path: &str) -> String {
    if path.is_empty() {
        return String::new();
    }
    let p = path.replace('\\', "/").to_lowercase();
    let p = p
        .strip_prefix("//?/")
        .or_else(|| p.strip_prefix("//./"))
        .unwrap_or(&p);
    let (root, rest) = if let Some(unc) = p.strip_prefix("//") {
        // `//server/share` is the root.
        let mut parts = unc.splitn(3, '/');
        let server = parts.next().unwrap_or("");
        let share = parts.next().unwrap_or("");
        (format!("//{server}/{share}"), parts.next().unwrap_or(""))
    } else {
        let drive = p
            .get(..2)
            .filter(|d| d.ends_with(':') && d.starts_with(|c: char| c.is_ascii_alphabetic()));
        match drive {
            Some(d) => (d.to_string(), p.get(2..).unwrap_or("")),
            None => (String::new(), p),
        }
    };
    // `C:x` is relative to drive C's current directory: not rooted.
    let absolute = rest.starts_with('/') || root.starts_with("//");
    let joined = resolve(rest.split('/'), absolute).join("/");
    let lead = if absolute { "/" } else { "" };
    match (root.is_empty(), joined.is_empty()) {
        (true, true) if absolute => "/".to_string(),
        (true, true) => ".".to_string(),
        (false, true) if root.starts_with("//") => root,
        _ => format!("{root}{lead}{joined}"),
    }
}

/// The segments of a path once `.` and `..` are resolved; `rooted`: `..` never climbs above
/// the start.
fn resolve<'a>(segments: impl Iterator<Item = &'a str>, rooted: bool) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for segment in segments {
        match segment {
            "" | "." => {}
            ".." => match out.last() {
                Some(&last) if last != ".." => {
                    out.pop();
                }
                _ if rooted => {}
                _ => out.push(".."),
            },
            s => out.push(s),
        }
    }
    out
}

/// Whether `item` is in a claim read as a list: an array's items (each read as
/// [`json_text`] reads a value; objects, arrays and `null` never match); a string's
/// space-separated words (RFC 6749 §3.3 and RFC 8693 §4.2 `scope`), or the whole string; a
/// number or `true`/`false` as a one-item list of its JSON text; `null` or an object as the
/// empty list.
pub(super) fn claim_holds(claim: &Json, item: &str) -> bool {
    match claim {
        Json::String(s) => s == item || (!item.is_empty() && s.split(' ').any(|w| w == item)),
        Json::Array(items) => items.iter().any(|i| {
            matches!(i, Json::String(_) | Json::Number(_) | Json::Bool(_))
                && json_text(i).as_str() == item
        }),
        Json::Number(_) | Json::Bool(_) => json_text(claim).as_str() == item,
        Json::Null | Json::Object(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(v: Json) -> String {
        json_text(&v).as_str().to_string()
    }

    #[test]
    fn values_read_as_strings() {
        assert_eq!(text(json!("a b")), "a b");
        assert_eq!(text(json!(3)), "3");
        assert_eq!(text(json!(-3)), "-3");
        assert_eq!(text(json!(u64::MAX)), "18446744073709551615");
        assert_eq!(text(json!(i64::MIN)), "-9223372036854775808");
        assert_eq!(text(json!(3.0)), "3");
        assert_eq!(text(json!(-0.0)), "0");
        assert_eq!(text(json!(2.5)), "2.5");
        assert_eq!(text(json!(1e300)), "1e+300");
        assert_eq!(
            text(json!(-2.2250738585072014e-308)),
            "-2.2250738585072014e-308"
        );
        assert_eq!(text(json!(true)), "true");
        assert_eq!(text(json!(false)), "false");
        assert_eq!(text(json!(null)), "");
        // Composites read as their compact JSON text.
        assert_eq!(text(json!([1])), "[1]");
        assert_eq!(text(json!(["/etc/passwd"])), r#"["/etc/passwd"]"#);
        assert_eq!(text(json!({"a": 1})), r#"{"a":1}"#);
    }

    #[test]
    fn paths_normalized() {
        for (sent, seen) in [
            ("/etc/passwd", "/etc/passwd"),
            ("/tmp/../etc/passwd", "/etc/passwd"),
            ("//etc/passwd", "/etc/passwd"),
            ("/./etc//passwd/", "/etc/passwd"),
            ("/etc", "/etc"),
            ("/etc/", "/etc"),
            ("/../../etc/shadow", "/etc/shadow"),
            // `\` is a character of a name on POSIX systems.
            ("/x\\y/../etc/passwd", "/etc/passwd"),
            ("\\etc\\passwd", "\\etc\\passwd"),
            ("/srv/a/../../etc", "/etc"),
            ("etc/passwd", "etc/passwd"),
            ("../etc/passwd", "../etc/passwd"),
            ("a/../..", ".."),
            ("a/..", "."),
            ("/", "/"),
            ("/..", "/"),
            ("", ""),
            ("/ETC/%2e%2e/x", "/ETC/%2e%2e/x"),
        ] {
            assert_eq!(normalize_path(sent), seen, "{sent}");
        }
        for (sent, seen) in [
            ("C:\\Windows\\win.ini", "c:/windows/win.ini"),
            ("C:\\..\\Windows\\win.ini", "c:/windows/win.ini"),
            ("\\\\?\\C:\\Windows\\win.ini", "c:/windows/win.ini"),
            ("\\\\.\\C:\\Windows", "c:/windows"),
            ("c:/Windows/../Windows/System32", "c:/windows/system32"),
            ("C:Windows\\x", "c:windows/x"),
            ("\\\\srv\\share\\..\\..\\x", "//srv/share/x"),
            ("\\Windows\\..\\..\\x", "/x"),
            ("a\\..\\..\\b", "../b"),
            ("/x\\y/../etc", "/x/etc"),
            ("C:\\", "c:/"),
            ("", ""),
        ] {
            assert_eq!(normalize_windows_path(sent), seen, "{sent}");
        }
    }

    #[test]
    fn claims_as_lists() {
        assert!(claim_holds(&json!(["a", "b"]), "b"));
        assert!(!claim_holds(&json!(["a", "b"]), "c"));
        assert!(claim_holds(&json!(["a", 3, true]), "3"));
        assert!(claim_holds(&json!(["a", 3, true]), "true"));
        assert!(!claim_holds(&json!([["b"], {"b": 1}, null]), "b"));
        assert!(claim_holds(&json!("read write"), "write"));
        assert!(claim_holds(&json!("read write"), "read write"));
        assert!(!claim_holds(&json!("read write"), "rea"));
        assert!(!claim_holds(&json!("read  write"), ""));
        assert!(claim_holds(&json!("admin"), "admin"));
        assert!(claim_holds(&json!(""), ""));
        assert!(claim_holds(&json!(4), "4"));
        assert!(!claim_holds(&json!(null), ""));
        assert!(!claim_holds(&json!({"admin": true}), "admin"));
    }

    #[test]
    fn paths_walk_objects_and_arrays() {
        let steps = ArgStep::parse_path("files.1.name").unwrap();
        assert_eq!(steps.len(), 3);
        assert_eq!(steps[1].index(), Some(1));
        assert_eq!(steps[1].key(), "1");
        let args = json!({"files": [{"name": "a"}, {"name": "b"}]});
        assert_eq!(ArgStep::walk(&args, &steps), Some(&json!("b")));
        // A numeric step is also a member name.
        let steps = ArgStep::parse_path("m.0").unwrap();
        assert_eq!(
            ArgStep::walk(&json!({"m": {"0": 7}}), &steps),
            Some(&json!(7))
        );
        assert_eq!(ArgStep::walk(&json!({"m": [7]}), &steps), Some(&json!(7)));
        assert_eq!(ArgStep::walk(&json!({"m": "x"}), &steps), None);
        assert_eq!(
            ArgStep::walk(&json!({"m": [7]}), &ArgStep::parse_path("m.01").unwrap()),
            None
        );
        assert_eq!(
            ArgStep::walk(&json!({"m": [7]}), &ArgStep::parse_path("m.5").unwrap()),
            None
        );
        assert_eq!(
            ArgStep::parse_path("99999999999999999999999").unwrap()[0].index(),
            None
        );
        assert_eq!(ArgStep::parse_path(""), Err(1));
        assert_eq!(ArgStep::parse_path("a..b"), Err(3));
        assert_eq!(ArgStep::parse_path("é."), Err(3));
    }

    #[test]
    fn header_names() {
        for ok in [
            "x-caller-id",
            "Authorization",
            ":authority",
            "a!#$%&'*+-.^_`|~9",
        ] {
            assert!(is_header_name(ok), "{ok}");
        }
        for bad in ["", ":", "a b", "a:b", "é", "x\u{0}", "::a", "(a)"] {
            assert!(!is_header_name(bad), "{bad}");
        }
    }
}
