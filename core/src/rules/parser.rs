//! Recursive-descent parser: `||` binds loosest, then `&&`, then the comparisons (which do not
//! chain), then `!`, as in C.

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
    Var(String, usize),
    Str(String, usize),
    Int(i64, usize),
    Bool(bool, usize),
}

impl Ast {
    pub fn column(&self) -> usize {
        match self {
            Ast::Or(a, _) | Ast::And(a, _) => a.column(),
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
        let next = self.peek();
        if matches!(
            next.tok,
            Tok::Eq | Tok::Ne | Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge
        ) {
            return Err(RuleError::new(
                next.column,
                "comparisons do not chain; use `&&` between them or parentheses",
            ));
        }
        Ok(Ast::Cmp(op, Box::new(left), Box::new(right), column))
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
            Tok::Ident(name) => Ok(Ast::Var(name.clone(), t.column)),
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
    }
}
