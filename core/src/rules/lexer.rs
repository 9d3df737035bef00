//! Tokens of the rule language. Positions are 1-based character columns, which is what an
//! operator counts when reading the condition string in their configuration.

use super::RuleError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Int(i64),
    Bool(bool),
    AndAnd,
    OrOr,
    Bang,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    LParen,
    RParen,
    /// `[`: opens a list of quoted strings (after `in`).
    LBracket,
    /// `]`
    RBracket,
    /// `,`: between a function's arguments and a list's items.
    Comma,
    /// `in` (a keyword: no variable or function is called `in`).
    In,
    /// `not`, only in `not in` (a keyword).
    Not,
    End,
}

impl Tok {
    pub fn describe(&self) -> String {
        match self {
            Tok::Ident(s) => format!("`{s}`"),
            Tok::Str(_) => "a string".to_string(),
            Tok::Int(i) => format!("`{i}`"),
            Tok::Bool(b) => format!("`{b}`"),
            Tok::AndAnd => "`&&`".into(),
            Tok::OrOr => "`||`".into(),
            Tok::Bang => "`!`".into(),
            Tok::Eq => "`==`".into(),
            Tok::Ne => "`!=`".into(),
            Tok::Lt => "`<`".into(),
            Tok::Le => "`<=`".into(),
            Tok::Gt => "`>`".into(),
            Tok::Ge => "`>=`".into(),
            Tok::LParen => "`(`".into(),
            Tok::RParen => "`)`".into(),
            Tok::LBracket => "`[`".into(),
            Tok::RBracket => "`]`".into(),
            Tok::Comma => "`,`".into(),
            Tok::In => "`in`".into(),
            Tok::Not => "`not`".into(),
            Tok::End => "the end of the condition".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub column: usize,
}

pub const MAX_CONDITION_LEN: usize = 4096;

pub fn tokenize(src: &str) -> Result<Vec<Token>, RuleError> {
    if src.len() > MAX_CONDITION_LEN {
        return Err(RuleError::new(
            1,
            format!("condition is longer than {MAX_CONDITION_LEN} bytes"),
        ));
    }
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0usize;
    let peek = |i: usize| chars.get(i).copied();
    while let Some(c) = peek(i) {
        let column = i + 1;
        let two = |next: char| peek(i + 1) == Some(next);
        let (tok, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '(' => (Tok::LParen, 1),
            ')' => (Tok::RParen, 1),
            '[' => (Tok::LBracket, 1),
            ']' => (Tok::RBracket, 1),
            ',' => (Tok::Comma, 1),
            '&' if two('&') => (Tok::AndAnd, 2),
            '|' if two('|') => (Tok::OrOr, 2),
            '=' if two('=') => (Tok::Eq, 2),
            '!' if two('=') => (Tok::Ne, 2),
            '<' if two('=') => (Tok::Le, 2),
            '>' if two('=') => (Tok::Ge, 2),
            '!' => (Tok::Bang, 1),
            '<' => (Tok::Lt, 1),
            '>' => (Tok::Gt, 1),
            '&' => return Err(RuleError::new(column, "unexpected `&`; did you mean `&&`?")),
            '|' => return Err(RuleError::new(column, "unexpected `|`; did you mean `||`?")),
            '=' => return Err(RuleError::new(column, "unexpected `=`; did you mean `==`?")),
            '\'' | '"' => {
                let (s, len) = string(&chars, i)?;
                (Tok::Str(s), len)
            }
            c if c.is_ascii_digit()
                || (c == '-' && peek(i + 1).is_some_and(|d| d.is_ascii_digit())) =>
            {
                let mut j = i + 1;
                while peek(j).is_some_and(|d| d.is_ascii_digit()) {
                    j += 1;
                }
                let text: String = chars.get(i..j).unwrap_or_default().iter().collect();
                let n = text.parse::<i64>().map_err(|_| {
                    RuleError::new(column, format!("integer `{text}` is out of range"))
                })?;
                if peek(j).is_some_and(|d| d.is_alphabetic() || d == '_' || d == '.') {
                    return Err(RuleError::new(
                        column,
                        "malformed number; only integers are allowed",
                    ));
                }
                (Tok::Int(n), j - i)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while peek(j).is_some_and(|d| d.is_ascii_alphanumeric() || d == '_') {
                    j += 1;
                }
                let word: String = chars.get(i..j).unwrap_or_default().iter().collect();
                let tok = match word.as_str() {
                    "true" => Tok::Bool(true),
                    "false" => Tok::Bool(false),
                    "in" => Tok::In,
                    "not" => Tok::Not,
                    _ => Tok::Ident(word),
                };
                (tok, j - i)
            }
            other => {
                return Err(RuleError::new(
                    column,
                    format!("unexpected character `{}`", other.escape_debug()),
                ))
            }
        };
        out.push(Token { tok, column });
        i += len;
    }
    out.push(Token {
        tok: Tok::End,
        column: chars.len() + 1,
    });
    Ok(out)
}

/// A quoted string starting at `start`; returns its value and its length in characters.
fn string(chars: &[char], start: usize) -> Result<(String, usize), RuleError> {
    let quote = chars.get(start).copied().unwrap_or('\'');
    let mut value = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(RuleError::new(
                    start + 1,
                    "unterminated string: missing closing quote",
                ))
            }
            Some('\\') => match chars.get(i + 1) {
                Some(&c @ ('\\' | '\'' | '"')) => {
                    value.push(c);
                    i += 2;
                }
                _ => {
                    return Err(RuleError::new(
                        i + 1,
                        "unknown escape; only \\\\, \\' and \\\" are allowed",
                    ))
                }
            },
            Some(&c) if c == quote => return Ok((value, i + 1 - start)),
            Some(&c) => {
                value.push(c);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        tokenize(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn all_tokens() {
        assert_eq!(
            toks("a && b || !c == 'x' != \"y\" < 1 <= -2 > 3 >= (true) false"),
            vec![
                Tok::Ident("a".into()),
                Tok::AndAnd,
                Tok::Ident("b".into()),
                Tok::OrOr,
                Tok::Bang,
                Tok::Ident("c".into()),
                Tok::Eq,
                Tok::Str("x".into()),
                Tok::Ne,
                Tok::Str("y".into()),
                Tok::Lt,
                Tok::Int(1),
                Tok::Le,
                Tok::Int(-2),
                Tok::Gt,
                Tok::Int(3),
                Tok::Ge,
                Tok::LParen,
                Tok::Bool(true),
                Tok::RParen,
                Tok::Bool(false),
                Tok::End,
            ]
        );
        assert_eq!(
            toks("x in ['a',\"b\"] not in f(y, 'z') inx"),
            vec![
                Tok::Ident("x".into()),
                Tok::In,
                Tok::LBracket,
                Tok::Str("a".into()),
                Tok::Comma,
                Tok::Str("b".into()),
                Tok::RBracket,
                Tok::Not,
                Tok::In,
                Tok::Ident("f".into()),
                Tok::LParen,
                Tok::Ident("y".into()),
                Tok::Comma,
                Tok::Str("z".into()),
                Tok::RParen,
                Tok::Ident("inx".into()),
                Tok::End,
            ]
        );
    }

    #[test]
    fn brackets_and_commas_have_columns() {
        let t = tokenize("a in [ 'b' ,'c']").unwrap();
        let cols: Vec<usize> = t.iter().map(|t| t.column).collect();
        assert_eq!(cols, vec![1, 3, 6, 8, 12, 13, 16, 17]);
        assert_eq!(t[5].tok, Tok::Str("c".into()));
        assert_eq!(t[6].tok, Tok::RBracket);
    }

    #[test]
    fn escapes_and_columns() {
        let t = tokenize(r#"  'it\'s' == "a\"b""#).unwrap();
        assert_eq!(t[0].tok, Tok::Str("it's".into()));
        assert_eq!(t[0].column, 3);
        assert_eq!(t[2].tok, Tok::Str("a\"b".into()));
    }

    #[test]
    fn errors_carry_columns() {
        let e = tokenize("has_ssn & x").unwrap_err();
        assert_eq!(e.column, 9);
        assert!(e.message.contains("&&"));
        assert_eq!(tokenize("a = 'b'").unwrap_err().column, 3);
        assert_eq!(tokenize("a == 'b").unwrap_err().column, 6);
        assert_eq!(tokenize("a == 1.5").unwrap_err().column, 6);
        assert_eq!(tokenize("a # b").unwrap_err().column, 3);
        assert_eq!(tokenize("99999999999999999999").unwrap_err().column, 1);
        assert_eq!(tokenize("'\\n'").unwrap_err().column, 2);
    }
}
