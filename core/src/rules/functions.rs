//! The functions of the rule language, one row each (the docs' list is written from them),
//! and the suggestions for a name that is not known.

use crate::registry::registry;

/// A function of the rule language.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    /// How a rule calls it (the docs and the error messages).
    pub signature: &'static str,
    /// How many arguments it takes.
    pub arity: usize,
    /// What it is (the docs).
    pub doc: &'static str,
}

registry! {
    /// Every function a rule condition can call. The arguments in quotes must be quoted
    /// strings (compiled when the configuration loads); `s` is any string: a variable, a
    /// lookup, a literal.
    pub enum Func: Function {
        Header => Function { name: "header", signature: "header('name')", arity: 1,
            doc: "the value of the request header `name` (case-insensitive; several fields of that name joined with `, `, RFC 9110 §5.3); `''` when absent" },
        Claim => Function { name: "claim", signature: "claim('name')", arity: 1,
            doc: "the verified JWT claim `name` (top-level): a string as is, a number or `true`/`false` as its JSON text, an array or object as its compact JSON text, `''` when absent or null; `'x' in claim('name')` reads it as a list" },
        McpArg => Function { name: "mcp_arg", signature: "mcp_arg('path')", arity: 1,
            doc: "the value at the dotted `path` in the MCP `tools/call` arguments (`params.arguments`; a numeric step indexes an array: `files.0.name`): a string as is, a number or `true`/`false` as its JSON text, an array or object as its compact JSON text (`[\"/etc/passwd\"]`), `''` when absent or null; a member missing under its own name is matched case-insensitively, as Go's `encoding/json` does. Known once the body is read" },
        StartsWith => Function { name: "starts_with", signature: "starts_with(s, 'prefix')", arity: 2,
            doc: "`s` starts with `prefix` (case-sensitive)" },
        EndsWith => Function { name: "ends_with", signature: "ends_with(s, 'suffix')", arity: 2,
            doc: "`s` ends with `suffix` (case-sensitive)" },
        Contains => Function { name: "contains", signature: "contains(s, 'part')", arity: 2,
            doc: "`s` contains `part` (case-sensitive)" },
        NormalizePath => Function { name: "normalize_path", signature: "normalize_path(s)", arity: 1,
            doc: "`s` as a POSIX system (Linux, macOS) resolves a path, lexically: repeated `/` as one, `.` segments dropped, `..` removing the segment before it (never above the root), no trailing `/`; `\\` is a character of a name, as it is there; case and percent escapes as sent. `/tmp/../etc//passwd` and `/x\\y/../etc/passwd` are `/etc/passwd`; a relative path stays relative" },
        NormalizeWindowsPath => Function { name: "normalize_windows_path", signature: "normalize_windows_path(s)", arity: 1,
            doc: "`s` as Windows resolves a path, lexically, for agents on Windows: `\\` and `/` both separators, the `\\\\?\\` and `\\\\.\\` prefixes dropped, a drive (`C:`) or a UNC share (`//server/share`) as the root `..` never climbs above, `/` separators, lower case throughout (Windows file names are case-insensitive): `C:\\..\\Windows\\win.ini` is `c:/windows/win.ini`" },
    }
}

impl Func {
    pub fn by_name(name: &str) -> Option<Func> {
        Func::ALL.iter().copied().find(|f| f.spec().name == name)
    }

    /// Every signature, for error messages: `header('name'), claim('name'), …`.
    pub fn signatures() -> String {
        let all: Vec<&str> = Func::ALL.iter().map(|f| f.spec().signature).collect();
        all.join(", ")
    }

    /// The test a string function makes of its two arguments (`starts_with`, `ends_with`,
    /// `contains`); `None` for a lookup.
    pub fn tests_string(self) -> Option<fn(&str, &str) -> bool> {
        match self {
            Func::StartsWith => Some(|s, p| s.starts_with(p)),
            Func::EndsWith => Some(|s, p| s.ends_with(p)),
            Func::Contains => Some(|s, p| s.contains(p)),
            Func::Header
            | Func::Claim
            | Func::McpArg
            | Func::NormalizePath
            | Func::NormalizeWindowsPath => None,
        }
    }
}

/// The candidate closest to `name` (Levenshtein distance, in characters), if it is close
/// enough to be a typo: one edit for names up to 5 characters, two up to 8, three beyond.
/// Ties go to the first candidate.
pub fn suggest<'c>(name: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let len = name.chars().count();
    let most = match len {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = distance(name, c);
        if d <= most && best.is_none_or(|(b, _)| d < b) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// Levenshtein distance in characters (insertions, deletions, substitutions).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut row = vec![0usize; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(first) = row.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = row.get(j).copied().unwrap_or(0) + 1;
            if let Some(cell) = row.get_mut(j + 1) {
                *cell = sub.min(del).min(ins);
            }
        }
        std::mem::swap(&mut prev, &mut row);
    }
    prev.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("", ""), 0);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("mcp_tol", "mcp_tool"), 1);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("héader", "header"), 1);
    }

    #[test]
    fn suggestions() {
        let names = ["mcp_tool", "mcp_prompt", "method", "path"];
        assert_eq!(suggest("mcp_tol", names), Some("mcp_tool"));
        assert_eq!(suggest("Method", names), Some("method"));
        assert_eq!(suggest("pth", names), Some("path"));
        assert_eq!(suggest("x", names), None);
        assert_eq!(suggest("mcp", names), None);
        assert_eq!(suggest("heder", ["header", "claim"]), Some("header"));
    }

    #[test]
    fn every_function_is_found_by_its_name() {
        for f in Func::ALL {
            assert_eq!(Func::by_name(f.spec().name), Some(*f));
            assert!(f.spec().signature.starts_with(f.spec().name));
            assert_eq!(
                f.spec().signature.matches(',').count() + 1,
                f.spec().arity,
                "{}",
                f.spec().name
            );
        }
    }
}
