//! Recursive-descent parser: `||` binds loosest, then `&&`, then the comparisons and `in` /
//! `not in` (which do not chain), then `!`, as in C. A function call is a name followed by `(`;
//! a list literal `['a', 'b']` only follows `in`.

use super::lexer::{Tok, Token};
use super::RuleError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The same comparison with its operands swapped (`3 < x` is `x > 3`).
    pub fn flipped(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            same => same,
        }
    }

    pub fn holds<T: PartialOrd>(self, a: &T, b: &T) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Or(Box<Ast>, Box<Ast>),
    And(Box<Ast>, Box<Ast>),
    Not(Box<Ast>, usize),
    Cmp(CmpOp, Box<Ast>, Box<Ast>, usize),
    /// `left in right` (`negated`: `left not in right`); the column of `in` (or `not`).
    In {
        left: Box<Ast>,
        right: Box<Ast>,
        column: usize,
        negated: bool,
    },
    /// `name(args)`, at the column of the name.
    Call(String, Vec<Ast>, usize),
    /// `['a', 'b']`: the items and their columns, at the column of `[`.
    List(Vec<(String, usize)>, usize),
    Var(String, usize),
    Str(String, usize),
    Int(i64, usize),
    Bool(bool, usize),
}

impl Ast {
    pub fn column(&self) -> usize {
        match self {
            Ast::Or(a, _) | Ast::And(a, _) => a.column(),
            Ast::In { column: c, .. } | Ast::Call(_, _, c) | Ast::List(_, c) => *c,
            Ast::Not(_, c)
            | Ast::Cmp(_, _, _, c)
            | Ast::Var(_, c)
            | Ast::Str(_, c)
            | Ast::Int(_, c)
            | Ast::Bool(_, c) => *c,
        }
    }
}

/// Nesting deeper than this is rejected rather than risking the Wasm stack.
pub const MAX_DEPTH: usize = 64;

/// The most items a list literal holds: membership is a binary search, but a longer list is
/// more likely a mistake (or a document pasted in) than a rule.
pub const MAX_LIST_ITEMS: usize = 1024;

fn is_cmp(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::In | Tok::Not
    )
}

pub fn parse(tokens: &[Token]) -> Result<Ast, RuleError> {
    let mut p = Parser { tokens, pos: 0 };
    let ast = p.or(0)?;
    let t = p.peek();
    if t.tok != Tok::End {
        return Err(RuleError::new(
            t.column,
            format!(
                "unexpected {}; expected `&&`, `||` or the end",
                t.tok.describe()
            ),
        ));
    }
    Ok(ast)
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
}

const END: Token = Token {
    tok: Tok::End,
    column: 0,
};

impl<'a> Parser<'a> {
    fn peek(&self) -> &'a Token {
        self.tokens.get(self.pos).unwrap_or(&END)
    }

    fn bump(&mut self) -> &'a Token {
        let t = self.peek();
        self.pos += 1;
        t
    }

    fn deeper(&self, depth: usize) -> Result<usize, RuleError> {
        if depth >= MAX_DEPTH {
            Err(RuleError::new(
                self.peek().column,
                format!("condition nests deeper than {MAX_DEPTH} levels"),
            ))
        } else {
            Ok(depth + 1)
        }
    }

    fn or(&mut self, depth: usize) -> Result<Ast, RuleError> {
        let depth = self.deeper(depth)?;
        let mut left = self.and(depth)?;
        while self.peek().tok == Tok::OrOr {
            self.bump();
            let right = self.and(depth)?;
            left = Ast::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize) -> Result<Ast, RuleError> {
        let mut left = self.cmp(depth)?;
        while self.peek().tok == Tok::AndAnd {
            self.bump();
            let right = self.cmp(depth)?;
            left = Ast::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn cmp(&mut self, depth: usize) -> Result<Ast, RuleError> {
        let left = self.unary(depth)?;
        if matches!(self.peek().tok, Tok::In | Tok::Not) {
            return self.membership(left, depth);
        }
        let op = match self.peek().tok {
            Tok::Eq => CmpOp::Eq,
            Tok::Ne => CmpOp::Ne,
            Tok::Lt => CmpOp::Lt,
            Tok::Le => CmpOp::Le,
            Tok::Gt => CmpOp::Gt,
            Tok::Ge => CmpOp::Ge,
            _ => return Ok(left),
        };
        let column = self.bump().column;
        let right = self.unary(depth)?;
        self.no_chain()?;
        Ok(Ast::Cmp(op, Box::new(left), Box::new(right), column))
    }

    fn no_chain(&self) -> Result<(), RuleError> {
        let next = self.peek();
        if is_cmp(&next.tok) {
            return Err(RuleError::new(
                next.column,
                "comparisons do not chain; use `&&` between them or parentheses",
            ));
        }
        Ok(())
    }

    /// `left in right` or `left not in right`; `right` is a list literal or an operand.
    fn membership(&mut self, left: Ast, depth: usize) -> Result<Ast, RuleError> {
        let first = self.bump();
        let negated = first.tok == Tok::Not;
        if negated {
            let t = self.bump();
            if t.tok != Tok::In {
                return Err(RuleError::new(
                    t.column,
                    format!(
                        "expected `in` after `not`, found {}; `not` is only in `x not in [...]`, negate with `!`",
                        t.tok.describe()
                    ),
                ));
            }
        }
        let right = if self.peek().tok == Tok::LBracket {
            self.list()?
        } else {
            self.unary(depth)?
        };
        self.no_chain()?;
        Ok(Ast::In {
            left: Box::new(left),
            right: Box::new(right),
            column: first.column,
            negated,
        })
    }

    /// `['a', 'b', ...]`: quoted strings, at least one, at most [`MAX_LIST_ITEMS`].
    fn list(&mut self) -> Result<Ast, RuleError> {
        let open = self.bump();
        let mut items: Vec<(String, usize)> = Vec::new();
        loop {
            let t = self.bump();
            match &t.tok {
                Tok::Str(s) => {
                    if items.len() >= MAX_LIST_ITEMS {
                        return Err(RuleError::new(
                            t.column,
                            format!("a list holds at most {MAX_LIST_ITEMS} items"),
                        ));
                    }
                    items.push((s.clone(), t.column));
                }
                Tok::RBracket if items.is_empty() => {
                    return Err(RuleError::new(
                        open.column,
                        "an empty list: `in []` never holds",
                    ))
                }
                other => {
                    return Err(RuleError::new(
                        t.column,
                        format!(
                            "unexpected {}; list items are quoted strings (`['a', 'b']`)",
                            other.describe()
                        ),
                    ))
                }
            }
            let sep = self.bump();
            match sep.tok {
                Tok::Comma => {}
                Tok::RBracket => return Ok(Ast::List(items, open.column)),
                ref other => {
                    return Err(RuleError::new(
                        sep.column,
                        format!(
                            "expected `,` or `]` to close the `[` at column {}, found {}",
                            open.column,
                            other.describe()
                        ),
                    ))
                }
            }
        }
    }

    /// The arguments of a call, after its `(`: expressions separated by `,`, up to `)`.
    fn arguments(&mut self, name: &str, open: usize, depth: usize) -> Result<Vec<Ast>, RuleError> {
        let mut args = Vec::new();
        if self.peek().tok == Tok::RParen {
            self.bump();
            return Ok(args);
        }
        loop {
            args.push(self.or(depth)?);
            let t = self.bump();
            match t.tok {
                Tok::Comma => {}
                Tok::RParen => return Ok(args),
                ref other => {
                    return Err(RuleError::new(
                        t.column,
                        format!(
                            "expected `,` or `)` in the arguments of `{name}` opened at column {open}, found {}",
                            other.describe()
                        ),
                    ))
                }
            }
        }
    }

    fn unary(&mut self, depth: usize) -> Result<Ast, RuleError> {
        if self.peek().tok == Tok::Bang {
            let column = self.bump().column;
            let depth = self.deeper(depth)?;
            let inner = self.unary(depth)?;
            return Ok(Ast::Not(Box::new(inner), column));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Ast, RuleError> {
        let t = self.bump();
        match &t.tok {
            Tok::LParen => {
                let inner = self.or(depth)?;
                let close = self.bump();
                if close.tok != Tok::RParen {
                    return Err(RuleError::new(
                        close.column,
                        format!(
                            "expected `)` to close the `(` at column {}, found {}",
                            t.column,
                            close.tok.describe()
                        ),
                    ));
                }
                Ok(inner)
            }
            Tok::Ident(name) if self.peek().tok == Tok::LParen => {
                let open = self.bump().column;
                let depth = self.deeper(depth)?;
                let args = self.arguments(name, open, depth)?;
                Ok(Ast::Call(name.clone(), args, t.column))
            }
            Tok::Ident(name) => Ok(Ast::Var(name.clone(), t.column)),
            Tok::LBracket => Err(RuleError::new(
                t.column,
                "a list `[...]` only follows `in` (`x in ['a', 'b']`)",
            )),
            Tok::Not => Err(RuleError::new(
                t.column,
                "`not` is only in `x not in [...]`; negate with `!`",
            )),
            Tok::Str(s) => Ok(Ast::Str(s.clone(), t.column)),
            Tok::Int(i) => Ok(Ast::Int(*i, t.column)),
            Tok::Bool(b) => Ok(Ast::Bool(*b, t.column)),
            other => Err(RuleError::new(
                t.column,
                format!(
                    "unexpected {}; expected a variable, a value or `(`",
                    other.describe()
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn p(s: &str) -> Result<Ast, RuleError> {
        parse(&tokenize(s)?)
    }

    fn var(n: &str, c: usize) -> Box<Ast> {
        Box::new(Ast::Var(n.into(), c))
    }

    #[test]
    fn precedence() {
        // a || b && c  ==  a || (b && c)
        assert_eq!(
            p("a || b && c").unwrap(),
            Ast::Or(var("a", 1), Box::new(Ast::And(var("b", 6), var("c", 11))))
        );
        // !a == b  ==  (!a) == b
        assert_eq!(
            p("!a == b").unwrap(),
            Ast::Cmp(
                CmpOp::Eq,
                Box::new(Ast::Not(var("a", 2), 1)),
                var("b", 7),
                4
            )
        );
        assert_eq!(
            p("(a || b) && c").unwrap(),
            Ast::And(Box::new(Ast::Or(var("a", 2), var("b", 7))), var("c", 13))
        );
    }

    #[test]
    fn errors() {
        assert_eq!(p("a == b == c").unwrap_err().column, 8);
        assert_eq!(p("(a && b").unwrap_err().column, 8);
        assert_eq!(p("a &&").unwrap_err().column, 5);
        assert_eq!(p("a b").unwrap_err().column, 3);
        assert_eq!(p("").unwrap_err().column, 1);
        assert_eq!(p(")").unwrap_err().column, 1);
        let deep = format!("{}a{}", "(".repeat(100), ")".repeat(100));
        assert!(p(&deep).unwrap_err().message.contains("nests deeper"));
        let nots = format!("{}a", "!".repeat(100));
        assert!(p(&nots).unwrap_err().message.contains("nests deeper"));
        let calls = format!("{}a{}", "f(".repeat(100), ")".repeat(100));
        assert!(p(&calls).unwrap_err().message.contains("nests deeper"));
    }

    fn list(items: &[(&str, usize)], c: usize) -> Box<Ast> {
        Box::new(Ast::List(
            items.iter().map(|(s, c)| (s.to_string(), *c)).collect(),
            c,
        ))
    }

    #[test]
    fn lists_in_and_calls() {
        assert_eq!(
            p("x in ['a', 'b']").unwrap(),
            Ast::In {
                left: var("x", 1),
                right: list(&[("a", 7), ("b", 12)], 6),
                column: 3,
                negated: false
            }
        );
        assert_eq!(
            p("x not in ['a'] && y").unwrap(),
            Ast::And(
                Box::new(Ast::In {
                    left: var("x", 1),
                    right: list(&[("a", 11)], 10),
                    column: 3,
                    negated: true
                }),
                var("y", 19)
            )
        );
        assert_eq!(
            p("'g' in claim('groups')").unwrap(),
            Ast::In {
                left: Box::new(Ast::Str("g".into(), 1)),
                right: Box::new(Ast::Call(
                    "claim".into(),
                    vec![Ast::Str("groups".into(), 14)],
                    8
                )),
                column: 5,
                negated: false
            }
        );
        assert_eq!(
            p("starts_with(header('a'), '/')").unwrap(),
            Ast::Call(
                "starts_with".into(),
                vec![
                    Ast::Call("header".into(), vec![Ast::Str("a".into(), 20)], 13),
                    Ast::Str("/".into(), 26)
                ],
                1
            )
        );
        assert_eq!(p("f()").unwrap(), Ast::Call("f".into(), vec![], 1));
        // `!x in [...]` is `(!x) in [...]`, as `!a == b` is `(!a) == b`.
        assert!(matches!(p("!x in ['a']").unwrap(), Ast::In { .. }));
    }

    #[test]
    fn list_and_call_errors() {
        let e = |s: &str| p(s).unwrap_err();
        assert_eq!(e("x in []").column, 6);
        assert!(e("x in []").message.contains("empty list"));
        assert_eq!(e("x in ['a',]").column, 11);
        assert_eq!(e("x in ['a' 'b']").column, 11);
        assert!(e("x in ['a' 'b']").message.contains("`,` or `]`"));
        assert_eq!(e("x in ['a', 1]").column, 12);
        assert!(e("x in ['a', 1]").message.contains("quoted strings"));
        assert_eq!(e("x in ['a'").column, 10);
        assert_eq!(e("['a'] == x").column, 1);
        assert!(e("['a'] == x").message.contains("only follows `in`"));
        assert_eq!(e("x not ['a']").column, 7);
        assert!(e("x not ['a']").message.contains("expected `in`"));
        assert_eq!(e("not x").column, 1);
        assert_eq!(e("x in ['a'] in ['b']").column, 12);
        assert_eq!(e("x == 'a' in ['b']").column, 10);
        assert_eq!(e("f('a' 'b')").column, 7);
        assert!(e("f('a' 'b')").message.contains("arguments of `f`"));
        assert_eq!(e("f('a',)").column, 7);
        assert_eq!(e("f('a'").column, 6);
        // Within the condition's 4096 bytes only short items reach the bound.
        let many = vec!["''"; MAX_LIST_ITEMS + 1].join(",");
        let err = e(&format!("x in [{many}]"));
        assert!(err.message.contains("at most 1024"), "{}", err.message);
        assert_eq!(err.column, 7 + 3 * MAX_LIST_ITEMS);
        let ok = vec!["''"; MAX_LIST_ITEMS].join(",");
        assert!(p(&format!("x in [{ok}]")).is_ok());
    }
}
