//! The rule condition language, compiled once at configure time.
//!
//! `&& || !`, `== != < <= > >=`, parentheses, quoted strings, integers, `true`/`false`.
//! Compilation type-checks every comparison, checks string literals against the values a
//! variable can take (a typo such as `trust_level == 'untrustd'` is an error, not a rule that
//! never fires), and folds everything the manifest fixes (trust level, retention, score, ...)
//! into constants. Evaluating a compiled [`Cond`] cannot fail.

mod lexer;
mod parser;
pub mod variables;

use crate::detect::{Kind, KindSet, Scanner};
use crate::manifest::Manifest;
pub use parser::CmpOp;
use parser::{parse, Ast};
use variables::{Fixed, Source, Type, HAS_PREFIX};
pub use variables::{Value, Var};

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

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for RuleError {}

const VAR_COUNT: usize = Var::ALL.len();

/// What a condition can look at when a request is evaluated: what the detectors found, and
/// the per-request variables, by [`Var`]. Built with [`Facts::new`] and the `with` methods,
/// so that a new variable is a registry row and a `with` where its value is known.
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    detected: KindSet,
    values: [Value<'a>; VAR_COUNT],
    /// The body is still to come: what is detected so far is a lower bound (see
    /// [`Cond::decided`]).
    body_pending: bool,
}

impl Default for Facts<'_> {
    fn default() -> Self {
        Facts {
            detected: KindSet::default(),
            values: [Value::Unset; VAR_COUNT],
            body_pending: false,
        }
    }
}

impl<'a> Facts<'a> {
    /// A request's facts: its method and its path without query string; nothing detected.
    pub fn new(method: &'a str, path: &'a str) -> Facts<'a> {
        Facts::default()
            .with(Var::Method, Value::Str(method))
            .with(Var::Path, Value::Str(path))
            .with_detected(KindSet::default(), 0)
    }

    /// What the detectors found: the kinds, and how many values in all.
    pub fn with_detected(mut self, kinds: KindSet, count: usize) -> Facts<'a> {
        self.detected = kinds;
        self.with(
            Var::DetectedCount,
            Value::Int(i64::try_from(count).unwrap_or(i64::MAX)),
        )
    }

    /// The facts of the request headers, before the body: the kinds detected so far are
    /// found for good, the others (and `detected_count` beyond its value so far) are unknown.
    pub fn body_pending(mut self) -> Facts<'a> {
        self.body_pending = true;
        self
    }

    /// A per-request variable's value.
    pub fn with(mut self, var: Var, value: Value<'a>) -> Facts<'a> {
        if let Some(slot) = self.values.get_mut(var.index()) {
            *slot = value;
        }
        self
    }

    pub fn get(&self, var: Var) -> Value<'a> {
        self.values.get(var.index()).copied().unwrap_or_default()
    }

    fn bool(&self, var: Var) -> bool {
        matches!(self.get(var), Value::Bool(true))
    }

    fn int(&self, var: Var) -> i64 {
        match self.get(var) {
            Value::Int(i) => i,
            _ => 0,
        }
    }

    fn str(&self, var: Var) -> &'a str {
        match self.get(var) {
            Value::Str(s) => s,
            _ => "",
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
    /// A per-request true/false variable.
    Bool(Var),
    /// `var <op> n`
    IntCmp(Var, CmpOp, i64),
    /// `var <op> var`
    IntVars(Var, CmpOp, Var),
    StrCmp(Var, CmpOp, Box<str>),
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
            Cond::Bool(v) => f.bool(*v),
            Cond::IntCmp(v, op, n) => op.holds(&f.int(*v), n),
            Cond::IntVars(a, op, b) => op.holds(&f.int(*a), &f.int(*b)),
            Cond::StrCmp(v, op, s) => op.holds(&f.str(*v), &&**s),
        }
    }

    /// The condition's value if what is known already decides it, whatever the body still to
    /// come adds (Kleene's three-valued logic); `None` when the body could change it. Without a
    /// pending body this is `Some(self.eval(f))`. Detections only grow as the body is scanned:
    /// a kind found is true for good, a kind not found yet is unknown, and `detected_count`
    /// can only rise.
    pub fn decided(&self, f: &Facts) -> Option<bool> {
        if !f.body_pending {
            return Some(self.eval(f));
        }
        match self {
            Cond::Has(k) => f.detected.contains(*k).then_some(true),
            Cond::Not(c) => c.decided(f).map(|b| !b),
            Cond::And(a, b) => match (a.decided(f), b.decided(f)) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            },
            Cond::Or(a, b) => match (a.decided(f), b.decided(f)) {
                (Some(true), _) | (_, Some(true)) => Some(true),
                (Some(false), Some(false)) => Some(false),
                _ => None,
            },
            Cond::BoolEq(a, b) => Some(a.decided(f)? == b.decided(f)?),
            Cond::IntCmp(Var::DetectedCount, op, n) => {
                let now = f.int(Var::DetectedCount);
                let holds = op.holds(&now, n);
                // The count can only rise: what holds for every count from `now` up.
                match op {
                    CmpOp::Gt | CmpOp::Ge => holds.then_some(true),
                    CmpOp::Lt | CmpOp::Le => (!holds).then_some(false),
                    CmpOp::Eq => (now > *n).then_some(false),
                    CmpOp::Ne => (now > *n).then_some(true),
                }
            }
            Cond::IntVars(a, _, b) if *a == Var::DetectedCount || *b == Var::DetectedCount => None,
            Cond::Const(_)
            | Cond::Bool(_)
            | Cond::IntCmp(..)
            | Cond::IntVars(..)
            | Cond::StrCmp(..) => Some(self.eval(f)),
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

/// What the configuration fixes, which rules fold into constants.
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
    Var(Var),
}

enum StrVal {
    Literal(String),
    /// A per-request string; `values` when it is from a closed set.
    Var(Var, Option<&'static [&'static str]>),
    /// A string the configuration fixes, from a closed set.
    Enum {
        var: Var,
        value: &'static str,
        values: &'static [&'static str],
        aliases: &'static [(&'static str, &'static str)],
    },
}

/// A comparison that no request can change: a literal its variable never equals
/// (`path == 'book'`), or a number outside its range (`trust_score > 10`). Reported when the
/// configuration loads; the rule is kept as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleWarning {
    /// 1-based character column of the comparison.
    pub column: usize,
    pub message: String,
}

pub fn compile(src: &str, env: &Env) -> Result<Cond, RuleError> {
    compile_checked(src, env).map(|(cond, _)| cond)
}

/// [`compile`], and the comparisons in the condition that no request can change.
pub fn compile_checked(src: &str, env: &Env) -> Result<(Cond, Vec<RuleWarning>), RuleError> {
    let tokens = lexer::tokenize(src)?;
    let ast = parse(&tokens)?;
    let cond = typed(&ast, env)?;
    let mut warnings = Vec::new();
    fixed_comparisons(&ast, &mut warnings);
    Ok((cond, warnings))
}

/// Every comparison of a variable with a literal whose outcome the variable's type decides.
fn fixed_comparisons(ast: &Ast, out: &mut Vec<RuleWarning>) {
    match ast {
        Ast::Or(a, b) | Ast::And(a, b) => {
            fixed_comparisons(a, out);
            fixed_comparisons(b, out);
        }
        Ast::Not(a, _) => fixed_comparisons(a, out),
        Ast::Cmp(op, a, b, _) => out.extend(fixed_comparison(*op, a, b)),
        _ => {}
    }
}

fn fixed_comparison(op: CmpOp, a: &Ast, b: &Ast) -> Option<RuleWarning> {
    let (name, op, literal) = match (a, b) {
        (Ast::Var(name, _), literal) => (name, op, literal),
        (literal, Ast::Var(name, _)) => (name, op.flipped(), literal),
        _ => return None,
    };
    let (always, why, shown) = match (Var::by_name(name)?.spec().ty, literal) {
        (Type::Int { min, max }, Ast::Int(n, _)) => {
            let always = match op {
                CmpOp::Eq | CmpOp::Ne if (min..=max).contains(n) => return None,
                CmpOp::Eq | CmpOp::Ne => op == CmpOp::Ne,
                // The ordering comparisons are monotone: constant when both ends agree.
                _ if op.holds(&min, n) == op.holds(&max, n) => op.holds(&min, n),
                _ => return None,
            };
            let why = if max == i64::MAX {
                format!("`{name}` is {min} or more")
            } else {
                format!("`{name}` is {min}..{max}")
            };
            (always, why, n.to_string())
        }
        (Type::Str(shape), Ast::Str(s, _)) if matches!(op, CmpOp::Eq | CmpOp::Ne) => (
            op == CmpOp::Ne,
            shape.never(s)?.to_string(),
            format!("'{s}'"),
        ),
        _ => return None,
    };
    Some(RuleWarning {
        column: a.column(),
        message: format!(
            "`{name} {} {shown}` is {} for every request: {why}",
            op.symbol(),
            if always { "true" } else { "false" }
        ),
    })
}

fn typed(ast: &Ast, env: &Env) -> Result<Cond, RuleError> {
    match value(ast, env)? {
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

/// A variable, typed and, where the configuration fixes it, folded to its value.
fn variable(name: &str, col: usize, env: &Env) -> Result<Val, RuleError> {
    let Some(var) = Var::by_name(name) else {
        return Err(RuleError::new(
            col,
            format!("unknown variable `{name}`; variables are: {}", Var::names()),
        ));
    };
    let spec = var.spec();
    Ok(match (spec.source, spec.ty) {
        (Source::Detector, _) => Val::Bool(Cond::Has(detector(name, col, env)?)),
        (Source::Config(value), ty) => match (value(env), ty) {
            (Fixed::Bool(b), _) => Val::Bool(Cond::Const(b)),
            (Fixed::Int(i), _) => Val::Int(IntVal::Const(i)),
            (Fixed::Str(s), Type::Enum { values, aliases }) => Val::Str(StrVal::Enum {
                var,
                value: s,
                values,
                aliases,
            }),
            (Fixed::Str(s), _) => Val::Str(StrVal::Literal(s.to_string())),
        },
        (Source::Request, Type::Bool) => Val::Bool(Cond::Bool(var)),
        (Source::Request, Type::Int { .. }) => Val::Int(IntVal::Var(var)),
        (Source::Request, Type::Str(_)) => Val::Str(StrVal::Var(var, None)),
        (Source::Request, Type::Enum { values, .. }) => Val::Str(StrVal::Var(var, Some(values))),
    })
}

/// The detector a `has_<type>` names, which must be enabled.
fn detector(name: &str, col: usize, env: &Env) -> Result<Kind, RuleError> {
    let ty = name.strip_prefix(HAS_PREFIX).unwrap_or(name);
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
    Ok(kind)
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
            (IntVal::Var(v), IntVal::Const(q)) => Cond::IntCmp(v, op, q),
            (IntVal::Const(p), IntVal::Var(v)) => Cond::IntCmp(v, op.flipped(), p),
            (IntVal::Var(v), IntVal::Var(w)) if v == w => Cond::Const(op.holds(&0, &0)),
            (IntVal::Var(v), IntVal::Var(w)) => Cond::IntVars(v, op, w),
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

/// A literal a closed set can never hold is an error (`trust_level == 'untrustd'` would be a
/// rule that never fires); an alias stands for its value.
fn closed_set_literal<'s>(
    var: Var,
    literal: &'s str,
    values: &[&str],
    aliases: &[(&'static str, &'static str)],
    col: usize,
) -> Result<&'s str, RuleError> {
    if !values.contains(&literal) {
        return Err(RuleError::new(
            col,
            format!(
                "`{}` is never '{literal}'; it is one of: {}",
                var.spec().name,
                values.join(", ")
            ),
        ));
    }
    Ok(aliases
        .iter()
        .find(|(alias, _)| *alias == literal)
        .map_or(literal, |(_, canonical)| canonical))
}

fn string_eq(op: CmpOp, x: StrVal, y: StrVal, xcol: usize, ycol: usize) -> Result<Cond, RuleError> {
    let literal_col = if matches!(x, StrVal::Literal(_)) {
        xcol
    } else {
        ycol
    };
    let cond = match (x, y) {
        (StrVal::Literal(p), StrVal::Literal(q)) => Cond::Const(op.holds(&p, &q)),
        (StrVal::Var(v, values), StrVal::Literal(s))
        | (StrVal::Literal(s), StrVal::Var(v, values)) => {
            if let Some(values) = values {
                closed_set_literal(v, &s, values, &[], literal_col)?;
            }
            Cond::StrCmp(v, op, s.into_boxed_str())
        }
        (
            StrVal::Enum {
                var,
                value,
                values,
                aliases,
            },
            StrVal::Literal(s),
        )
        | (
            StrVal::Literal(s),
            StrVal::Enum {
                var,
                value,
                values,
                aliases,
            },
        ) => {
            let s = closed_set_literal(var, &s, values, aliases, literal_col)?;
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
        assert_eq!(c, Cond::IntCmp(Var::DetectedCount, CmpOp::Gt, 2));
        // trust_score for standard + ephemeral is 6
        assert_eq!(
            compile("trust_score == 6 && !human_in_loop", &e).unwrap(),
            Cond::Const(true)
        );
        assert_eq!(compile("training_consent", &e).unwrap(), Cond::Const(false));
    }

    #[test]
    fn what_the_headers_decide_before_the_body() {
        let m = manifest("standard", "ephemeral");
        let e = env(&m);
        let decided = |src: &str, found: &[Kind], method: &'static str| {
            let c = compile(src, &e).unwrap();
            c.decided(&facts(found, method, "/x").body_pending())
        };
        // A kind found is found for good; one not found yet is unknown.
        assert_eq!(decided("has_ssn", &[Kind::SSN], "POST"), Some(true));
        assert_eq!(decided("has_ssn", &[], "POST"), None);
        assert_eq!(decided("!has_ssn", &[Kind::SSN], "POST"), Some(false));
        assert_eq!(decided("has_ssn && !has_email", &[Kind::SSN], "POST"), None);
        assert_eq!(
            decided("has_ssn || has_email", &[Kind::SSN], "POST"),
            Some(true)
        );
        assert_eq!(
            decided("has_ssn && method == 'GET'", &[], "POST"),
            Some(false)
        );
        assert_eq!(decided("has_ssn == has_email", &[Kind::SSN], "POST"), None);
        // detected_count only rises (facts() counts one value per kind found).
        let two = [Kind::SSN, Kind::EMAIL];
        assert_eq!(decided("detected_count >= 2", &two, "POST"), Some(true));
        assert_eq!(decided("detected_count > 2", &two, "POST"), None);
        assert_eq!(decided("detected_count < 2", &two, "POST"), Some(false));
        assert_eq!(decided("detected_count <= 5", &two, "POST"), None);
        assert_eq!(decided("detected_count == 1", &two, "POST"), Some(false));
        assert_eq!(decided("detected_count != 1", &two, "POST"), Some(true));
        assert_eq!(decided("detected_count == 2", &two, "POST"), None);
        // Without a pending body, decided is eval.
        let c = compile("has_ssn", &e).unwrap();
        assert_eq!(c.decided(&facts(&[], "POST", "/x")), Some(false));
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
