//! The rule condition language, compiled once at configure time.
//!
//! `&& || !`, `== != < <= > >=`, parentheses, quoted strings, integers, `true`/`false`.
//! Compilation type-checks every comparison, checks string literals against the values a
//! variable can take (a typo such as `trust_level == 'untrustd'` is an error, not a rule that
//! never fires), and folds everything the manifest fixes (trust level, retention, score, ...)
//! into constants. Evaluating a compiled [`Cond`] cannot fail.

mod lexer;
mod parser;

use crate::detect::{Kind, KindSet, Scanner};
use crate::manifest::{Manifest, Retention, Reversibility, TrustLevel};
pub use parser::CmpOp;
use parser::{parse, Ast};

/// A condition that does not compile: the 1-based character column and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub column: usize,
    pub message: String,
}

impl RuleError {
    fn new(column: usize, message: impl Into<String>) -> Self {
        RuleError {
            column,
            message: message.into(),
        }
    }
}

/// What a condition can look at when a request is evaluated. Built with [`Facts::new`] and
/// the `with_` methods, so that a new variable adds a method, not a field every caller spells.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts<'a> {
    detected: KindSet,
    detected_count: usize,
    method: &'a str,
    path: &'a str,
}

impl<'a> Facts<'a> {
    /// A request's facts: its method and its path without query string; nothing detected.
    pub fn new(method: &'a str, path: &'a str) -> Facts<'a> {
        Facts {
            method,
            path,
            ..Facts::default()
        }
    }

    /// What the detectors found: the kinds, and how many values in all.
    pub fn with_detected(self, kinds: KindSet, count: usize) -> Facts<'a> {
        Facts {
            detected: kinds,
            detected_count: count,
            ..self
        }
    }
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Const(bool),
    Has(Kind),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    BoolEq(Box<Cond>, Box<Cond>),
    /// `detected_count <op> n`
    CountCmp(CmpOp, i64),
    StrCmp(StrVar, CmpOp, Box<str>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrVar {
    Method,
    Path,
}

impl Cond {
    pub fn eval(&self, f: &Facts) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::Has(k) => f.detected.contains(*k),
            Cond::Not(c) => !c.eval(f),
            Cond::And(a, b) => a.eval(f) && b.eval(f),
            Cond::Or(a, b) => a.eval(f) || b.eval(f),
            Cond::BoolEq(a, b) => a.eval(f) == b.eval(f),
            Cond::CountCmp(op, n) => {
                op.holds(&i64::try_from(f.detected_count).unwrap_or(i64::MAX), n)
            }
            Cond::StrCmp(var, op, s) => {
                let v = match var {
                    StrVar::Method => f.method,
                    StrVar::Path => f.path,
                };
                op.holds(&v, &&**s)
            }
        }
    }

    /// The constant value of the condition, when the manifest alone decides it.
    pub fn constant(&self) -> Option<bool> {
        match self {
            Cond::Const(b) => Some(*b),
            _ => None,
        }
    }
}

/// The variables whose value the manifest fixes.
#[derive(Debug, Clone)]
pub struct Env<'a> {
    pub manifest: &'a Manifest,
    pub trust_score: u8,
    /// The detector catalogue: `has_<type>` is valid for each of its enabled detectors.
    pub scanner: &'a Scanner,
}

/// A typed, partially evaluated expression.
enum Val {
    Bool(Cond),
    Int(IntVal),
    Str(StrVal),
}

enum IntVal {
    Const(i64),
    DetectedCount,
}

enum StrVal {
    Literal(String),
    Dynamic(StrVar),
    /// A manifest enum: its name, its value, and the values it can take.
    Enum {
        var: &'static str,
        value: &'static str,
        allowed: Vec<&'static str>,
    },
}

const VARIABLES: &str = "has_<type>, detected_count, trust_score, trust_level, retention, \
reversibility, human_in_loop, training_consent, method, path";

pub fn compile(src: &str, env: &Env) -> Result<Cond, RuleError> {
    let tokens = lexer::tokenize(src)?;
    let ast = parse(&tokens)?;
    match value(&ast, env)? {
        Val::Bool(c) => Ok(c),
        Val::Int(_) => Err(RuleError::new(
            ast.column(),
            "the condition is an integer, not true/false; compare it, e.g. `trust_score < 5`",
        )),
        Val::Str(_) => Err(RuleError::new(
            ast.column(),
            "the condition is a string, not true/false; compare it, e.g. `retention == 'permanent'`",
        )),
    }
}

fn value(ast: &Ast, env: &Env) -> Result<Val, RuleError> {
    Ok(match ast {
        Ast::Bool(b, _) => Val::Bool(Cond::Const(*b)),
        Ast::Int(i, _) => Val::Int(IntVal::Const(*i)),
        Ast::Str(s, _) => Val::Str(StrVal::Literal(s.clone())),
        Ast::Var(name, col) => variable(name, *col, env)?,
        Ast::Not(inner, col) => Val::Bool(not(boolean(inner, env, *col, "`!`")?)),
        Ast::And(a, b) => {
            let a = boolean(a, env, a.column(), "`&&`")?;
            let b = boolean(b, env, b.column(), "`&&`")?;
            Val::Bool(match (a.constant(), b.constant()) {
                (Some(false), _) | (_, Some(false)) => Cond::Const(false),
                (Some(true), _) => b,
                (_, Some(true)) => a,
                _ => Cond::And(Box::new(a), Box::new(b)),
            })
        }
        Ast::Or(a, b) => {
            let a = boolean(a, env, a.column(), "`||`")?;
            let b = boolean(b, env, b.column(), "`||`")?;
            Val::Bool(match (a.constant(), b.constant()) {
                (Some(true), _) | (_, Some(true)) => Cond::Const(true),
                (Some(false), _) => b,
                (_, Some(false)) => a,
                _ => Cond::Or(Box::new(a), Box::new(b)),
            })
        }
        Ast::Cmp(op, a, b, col) => Val::Bool(compare(*op, a, b, *col, env)?),
    })
}

fn not(c: Cond) -> Cond {
    match c {
        Cond::Const(b) => Cond::Const(!b),
        Cond::Not(inner) => *inner,
        other => Cond::Not(Box::new(other)),
    }
}

fn boolean(ast: &Ast, env: &Env, col: usize, what: &str) -> Result<Cond, RuleError> {
    match value(ast, env)? {
        Val::Bool(c) => Ok(c),
        _ => Err(RuleError::new(
            col.max(ast.column()),
            format!("{what} needs true/false operands; this one is not"),
        )),
    }
}

fn variable(name: &str, col: usize, env: &Env) -> Result<Val, RuleError> {
    let m = env.manifest;
    Ok(match name {
        "detected_count" => Val::Int(IntVal::DetectedCount),
        "trust_score" => Val::Int(IntVal::Const(i64::from(env.trust_score))),
        "human_in_loop" => Val::Bool(Cond::Const(m.human_in_loop)),
        "training_consent" => Val::Bool(Cond::Const(m.training_consent)),
        "method" => Val::Str(StrVal::Dynamic(StrVar::Method)),
        "path" => Val::Str(StrVal::Dynamic(StrVar::Path)),
        "trust_level" => Val::Str(StrVal::Enum {
            var: "trust_level",
            value: m.trust_level.as_str(),
            allowed: TrustLevel::ALL.iter().map(|t| t.as_str()).collect(),
        }),
        "retention" => Val::Str(StrVal::Enum {
            var: "retention",
            value: m.retention.canonical().as_str(),
            allowed: Retention::ALL.iter().map(|r| r.as_str()).collect(),
        }),
        "reversibility" => Val::Str(StrVal::Enum {
            var: "reversibility",
            value: m.reversibility.as_str(),
            allowed: Reversibility::ALL.iter().map(|r| r.as_str()).collect(),
        }),
        _ => {
            match name.strip_prefix("has_") {
                Some(ty) => {
                    let kind = env.scanner.kind_by_name(ty).ok_or_else(|| {
                        RuleError::new(
                            col,
                            format!(
                                "unknown detector type `{ty}` in `{name}`; types are: {}",
                                env.scanner.all_names().join(", ")
                            ),
                        )
                    })?;
                    if !env.scanner.enabled().contains(kind) {
                        return Err(RuleError::new(
                        col,
                        format!("`{name}` needs the `{ty}` detector, which is not in detectors.enabled"),
                    ));
                    }
                    Val::Bool(Cond::Has(kind))
                }
                None => {
                    return Err(RuleError::new(
                        col,
                        format!("unknown variable `{name}`; variables are: {VARIABLES}"),
                    ))
                }
            }
        }
    })
}

fn compare(op: CmpOp, a: &Ast, b: &Ast, col: usize, env: &Env) -> Result<Cond, RuleError> {
    let (va, vb) = (value(a, env)?, value(b, env)?);
    let ordering = !matches!(op, CmpOp::Eq | CmpOp::Ne);
    match (va, vb) {
        (Val::Bool(x), Val::Bool(y)) => {
            if ordering {
                return Err(RuleError::new(
                    col,
                    format!("`{}` does not apply to true/false values", op.symbol()),
                ));
            }
            let eq = match (x.constant(), y.constant()) {
                (Some(p), Some(q)) => Cond::Const(p == q),
                (Some(true), None) => y,
                (None, Some(true)) => x,
                (Some(false), None) => not(y),
                (None, Some(false)) => not(x),
                (None, None) => Cond::BoolEq(Box::new(x), Box::new(y)),
            };
            Ok(if op == CmpOp::Ne { not(eq) } else { eq })
        }
        (Val::Int(x), Val::Int(y)) => Ok(match (x, y) {
            (IntVal::Const(p), IntVal::Const(q)) => Cond::Const(op.holds(&p, &q)),
            (IntVal::DetectedCount, IntVal::Const(q)) => Cond::CountCmp(op, q),
            (IntVal::Const(p), IntVal::DetectedCount) => Cond::CountCmp(op.flipped(), p),
            (IntVal::DetectedCount, IntVal::DetectedCount) => Cond::Const(op.holds(&0, &0)),
        }),
        (Val::Str(x), Val::Str(y)) => {
            if ordering {
                return Err(RuleError::new(
                    col,
                    format!(
                        "`{}` does not apply to strings; use `==` or `!=`",
                        op.symbol()
                    ),
                ));
            }
            string_eq(op, x, y, a.column(), b.column())
        }
        (x, y) => Err(RuleError::new(
            col,
            format!("cannot compare {} with {}", type_name(&x), type_name(&y)),
        )),
    }
}

fn type_name(v: &Val) -> &'static str {
    match v {
        Val::Bool(_) => "true/false",
        Val::Int(_) => "an integer",
        Val::Str(_) => "a string",
    }
}

fn string_eq(op: CmpOp, x: StrVal, y: StrVal, xcol: usize, ycol: usize) -> Result<Cond, RuleError> {
    let literal_col = if matches!(x, StrVal::Literal(_)) {
        xcol
    } else {
        ycol
    };
    let cond = match (x, y) {
        (StrVal::Literal(p), StrVal::Literal(q)) => Cond::Const(op.holds(&p, &q)),
        (StrVal::Dynamic(v), StrVal::Literal(s)) | (StrVal::Literal(s), StrVal::Dynamic(v)) => {
            Cond::StrCmp(v, op, s.into_boxed_str())
        }
        (
            StrVal::Enum {
                var,
                value,
                allowed,
            },
            StrVal::Literal(s),
        )
        | (
            StrVal::Literal(s),
            StrVal::Enum {
                var,
                value,
                allowed,
            },
        ) => {
            if !allowed.contains(&s.as_str()) {
                return Err(RuleError::new(
                    literal_col,
                    format!(
                        "`{var}` is never '{s}'; it is one of: {}",
                        allowed.join(", ")
                    ),
                ));
            }
            // `forever` and `permanent` name the same retention class.
            let s = if var == "retention" && s == "forever" {
                Retention::Permanent.as_str()
            } else {
                s.as_str()
            };
            Cond::Const(op.holds(&value, &s))
        }
        _ => {
            return Err(RuleError::new(
                xcol,
                "compare a variable with a quoted string, not with another variable",
            ))
        }
    };
    Ok(cond)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::RawManifest;
    use serde_json::json;

    fn manifest(level: &str, retention: &str) -> Manifest {
        serde_json::from_value::<RawManifest>(json!({
            "identity": {"agent_id": "a"},
            "trust_level": level,
            "privacy": {"retention": retention}
        }))
        .unwrap()
        .normalize()
        .unwrap()
    }

    static ALL: std::sync::LazyLock<Scanner> =
        std::sync::LazyLock::new(|| Scanner::new(KindSet::all_built_ins()));

    fn env(m: &Manifest) -> Env<'_> {
        Env {
            manifest: m,
            trust_score: crate::trust::trust_score(m),
            scanner: &ALL,
        }
    }

    fn facts(kinds: &[Kind], method: &'static str, path: &'static str) -> Facts<'static> {
        let set = kinds.iter().fold(KindSet::default(), |s, k| s.with(*k));
        Facts::new(method, path).with_detected(set, kinds.len())
    }

    #[test]
    fn default_rules_fold_against_the_manifest() {
        let untrusted = manifest("untrusted", "ephemeral");
        let c = compile(
            "has_credit_card && trust_level == 'untrusted'",
            &env(&untrusted),
        )
        .unwrap();
        assert_eq!(c, Cond::Has(Kind::CREDIT_CARD));
        let standard = manifest("standard", "ephemeral");
        let c = compile(
            "has_credit_card && trust_level == 'untrusted'",
            &env(&standard),
        )
        .unwrap();
        assert_eq!(c, Cond::Const(false));
        let forever = manifest("standard", "forever");
        let c = compile("has_ssn && retention == 'permanent'", &env(&forever)).unwrap();
        assert_eq!(c, Cond::Has(Kind::SSN));
        let c = compile("retention == \"forever\"", &env(&forever)).unwrap();
        assert_eq!(c, Cond::Const(true));
    }

    #[test]
    fn evaluation() {
        let m = manifest("standard", "ephemeral");
        let e = env(&m);
        let c = compile(
            "(has_email || has_ssn) && method == 'POST' && path != '/health' && detected_count >= 2",
            &e,
        )
        .unwrap();
        assert!(c.eval(&facts(&[Kind::EMAIL, Kind::SSN], "POST", "/x")));
        assert!(!c.eval(&facts(&[Kind::EMAIL], "POST", "/x")));
        assert!(!c.eval(&facts(&[Kind::EMAIL, Kind::SSN], "GET", "/x")));
        assert!(!c.eval(&facts(&[Kind::EMAIL, Kind::SSN], "POST", "/health")));
        let c = compile("!has_email == true", &e).unwrap();
        assert!(c.eval(&facts(&[], "GET", "/")));
        assert!(!c.eval(&facts(&[Kind::EMAIL], "GET", "/")));
        let c = compile("has_email != has_ssn", &e).unwrap();
        assert!(c.eval(&facts(&[Kind::EMAIL], "GET", "/")));
        assert!(!c.eval(&facts(&[Kind::EMAIL, Kind::SSN], "GET", "/")));
        let c = compile("2 < detected_count", &e).unwrap();
        assert_eq!(c, Cond::CountCmp(CmpOp::Gt, 2));
        // trust_score for standard + ephemeral is 6
        assert_eq!(
            compile("trust_score == 6 && !human_in_loop", &e).unwrap(),
            Cond::Const(true)
        );
        assert_eq!(compile("training_consent", &e).unwrap(), Cond::Const(false));
    }

    #[test]
    fn type_and_value_errors_name_the_column() {
        let m = manifest("standard", "ephemeral");
        let e = env(&m);
        let err = |s: &str| compile(s, &e).unwrap_err();
        let x = err("trust_level == 'untrustd'");
        assert_eq!(x.column, 16);
        assert!(x.message.contains("verified_partner"), "{}", x.message);
        assert_eq!(err("has_cc").column, 1);
        assert!(err("has_cc").message.contains("credit_card"));
        assert_eq!(err("x && has_ssn").column, 1);
        assert_eq!(err("has_ssn && trust_score").column, 12);
        assert_eq!(err("trust_score == 'high'").column, 13);
        assert_eq!(err("method < 'b'").column, 8);
        assert_eq!(err("has_ssn > true").column, 9);
        assert!(err("trust_score").message.contains("integer"));
        assert!(err("method").message.contains("string"));
        assert!(err("trust_level == method")
            .message
            .contains("quoted string"));
        assert!(err("method == path").message.contains("quoted string"));
        assert_eq!(err("'trustd' == trust_level").column, 1);
        let email = Scanner::new(KindSet::default().with(Kind::EMAIL));
        let only_email = Env {
            scanner: &email,
            ..e.clone()
        };
        let x = compile("has_ssn", &only_email).unwrap_err();
        assert!(x.message.contains("detectors.enabled"));
    }
}
