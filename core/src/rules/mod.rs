//! The rule condition language, compiled once at configure time.
//!
//! `&& || !`, `== != < <= > >=`, parentheses, quoted strings, integers, `true`/`false`;
//! `x in ['a', 'b']` and `x not in [...]` (a list of at most [`MAX_LIST_ITEMS`] quoted
//! strings), `'x' in claim('name')` (a claim read as a list); the functions of
//! [`functions::Func`]: lookups `header('name')`, `claim('name')`, `mcp_arg('path')` (their
//! argument a quoted string, compiled at load: a header name lower-cased and checked, a path
//! split into steps), and the tests `starts_with(s, 'lit')`, `ends_with(s, 'lit')`,
//! `contains(s, 'lit')`.
//!
//! Compilation type-checks every comparison, checks string literals against the values a
//! variable can take (a typo such as `trust_level == 'untrustd'` is an error, not a rule that
//! never fires; so is each item of a list), suggests the closest name for an unknown variable,
//! function or detector type, and folds everything the manifest fixes (trust level, retention,
//! score, ...) into constants. Evaluating a compiled [`Cond`] cannot fail and allocates
//! nothing: per-request values are in [`Facts`], looked-up ones come from its [`Lookup`]
//! (absent: `''`), and [`Uses`] tells the exchange which headers and claims to keep.
//!
//! Known with the headers: detections so far, the request variables, `header()`, `claim()`.
//! Known once the body is read: the body's detections, the [`Source::Body`] variables and
//! `mcp_arg()`; [`Cond::decided`] treats them as unknown while the body is pending.

mod functions;
mod lexer;
mod lookup;
mod parser;
pub mod variables;

use std::collections::BTreeSet;

use crate::detect::{Kind, KindSet, Scanner};
use crate::manifest::Manifest;
pub(crate) use functions::suggest;
pub use functions::Func;
use lookup::{claim_holds, is_header_name, json_text, PathStyle, Text};
pub use lookup::{ArgStep, Lookup};
pub use parser::CmpOp;
pub use parser::MAX_LIST_ITEMS;
use parser::{parse, Ast};
use variables::{Fixed, Source, Type, HAS_PREFIX, RESPONSE_HAS_PREFIX};
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

/// What a condition can look at when a request is evaluated: what the detectors found, the
/// per-request variables, by [`Var`], and the request's [`Lookup`] for `header()`,
/// `claim()` and `mcp_arg()`. Built with [`Facts::new`] and the `with` methods, so that a new
/// variable is a registry row and a `with` where its value is known. `Copy`: a fixed array
/// and two references.
#[derive(Clone, Copy)]
pub struct Facts<'a> {
    detected: KindSet,
    /// What the detectors found in the response so far (`response_has_<type>`).
    response_detected: KindSet,
    values: [Value<'a>; VAR_COUNT],
    /// The body is still to come: what is detected so far is a lower bound, and what the body
    /// holds is unknown (see [`Cond::decided`]).
    body_pending: bool,
    lookup: Option<&'a dyn Lookup>,
}

impl std::fmt::Debug for Facts<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Facts")
            .field("detected", &self.detected)
            .field("response_detected", &self.response_detected)
            .field("values", &self.values)
            .field("body_pending", &self.body_pending)
            .field("lookup", &self.lookup.is_some())
            .finish()
    }
}

impl Default for Facts<'_> {
    fn default() -> Self {
        Facts {
            detected: KindSet::default(),
            response_detected: KindSet::default(),
            values: [Value::Unset; VAR_COUNT],
            body_pending: false,
            lookup: None,
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

    /// What the response holds so far: its status, the kinds the detectors found in it and
    /// how many values in all.
    pub fn with_response(mut self, status: u16, kinds: KindSet, count: usize) -> Facts<'a> {
        self.response_detected = kinds;
        self.with(Var::ResponseStatus, Value::Int(i64::from(status)))
            .with(
                Var::ResponseDetectedCount,
                Value::Int(i64::try_from(count).unwrap_or(i64::MAX)),
            )
    }

    /// The facts of the request headers, before the body: the kinds detected so far are
    /// found for good, the others (and `detected_count` beyond its value so far) are unknown,
    /// and so is everything the body holds ([`Source::Body`] variables, `mcp_arg()`).
    pub fn body_pending(mut self) -> Facts<'a> {
        self.body_pending = true;
        self
    }

    /// Where `header()`, `claim()` and `mcp_arg()` read; without one, every lookup is absent
    /// (`''`).
    pub fn with_lookup(mut self, lookup: &'a dyn Lookup) -> Facts<'a> {
        self.lookup = Some(lookup);
        self
    }

    /// A per-request variable's value.
    pub fn with(mut self, var: Var, value: Value<'a>) -> Facts<'a> {
        self.set(var, value);
        self
    }

    /// [`Facts::with`] in place: facts are a few hundred bytes, and a chain of `with`s may
    /// copy them at each step.
    pub fn set(&mut self, var: Var, value: Value<'a>) {
        if let Some(slot) = self.values.get_mut(var.index()) {
            *slot = value;
        }
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

    fn claim(&self, name: &str) -> Option<&'a serde_json::Value> {
        self.lookup?.claim(name)
    }
}

/// A per-request string a condition reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrExpr {
    /// A string variable.
    Var(Var),
    /// `header('name')`: the name lower-case.
    Header(Box<str>),
    /// `claim('name')`.
    Claim(Box<str>),
    /// `mcp_arg('path')`: the path compiled.
    McpArg(Box<[ArgStep]>),
    /// `normalize_path(s)` (POSIX) or `normalize_windows_path(s)`.
    NormalizePath(Box<StrExpr>, PathStyle),
}

impl StrExpr {
    fn text<'a>(&self, f: &Facts<'a>) -> Text<'a> {
        let found = match self {
            StrExpr::Var(v) => return Text::Str(f.str(*v)),
            StrExpr::Header(name) => {
                return Text::Str(f.lookup.and_then(|l| l.header(name)).unwrap_or(""))
            }
            StrExpr::Claim(name) => f.claim(name),
            StrExpr::McpArg(path) => f.lookup.and_then(|l| l.mcp_arg(path)),
            StrExpr::NormalizePath(inner, style) => {
                return Text::Owned(style.normalize(inner.text(f).as_str()))
            }
        };
        found.map_or(Text::Str(""), json_text)
    }

    /// Whether its value is unknown until the body is read.
    fn needs_body(&self) -> bool {
        match self {
            StrExpr::Var(v) => v.needs_body(),
            StrExpr::McpArg(_) => true,
            StrExpr::NormalizePath(inner, _) => inner.needs_body(),
            StrExpr::Header(_) | StrExpr::Claim(_) => false,
        }
    }
}

/// The left side of `… in claim('name')`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrOperand {
    Literal(Box<str>),
    Expr(StrExpr),
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    Const(bool),
    Has(Kind),
    /// `response_has_<type>`.
    ResponseHas(Kind),
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
    /// `s == 'lit'` or `s != 'lit'`.
    StrCmp(StrExpr, CmpOp, Box<str>),
    /// `s in [...]`: the items sorted and without duplicates (a binary search).
    StrIn(StrExpr, Box<[Box<str>]>),
    /// `starts_with(s, 'lit')`, `ends_with`, `contains`.
    StrFn(Func, StrExpr, Box<str>),
    /// `x in claim('name')`: the claim read as a list (see [`Func::Claim`]).
    InClaim(StrOperand, Box<str>),
}

impl Cond {
    pub fn eval(&self, f: &Facts) -> bool {
        match self {
            Cond::Const(b) => *b,
            Cond::Has(k) => f.detected.contains(*k),
            Cond::ResponseHas(k) => f.response_detected.contains(*k),
            Cond::Not(c) => !c.eval(f),
            Cond::And(a, b) => a.eval(f) && b.eval(f),
            Cond::Or(a, b) => a.eval(f) || b.eval(f),
            Cond::BoolEq(a, b) => a.eval(f) == b.eval(f),
            Cond::Bool(v) => f.bool(*v),
            Cond::IntCmp(v, op, n) => op.holds(&f.int(*v), n),
            Cond::IntVars(a, op, b) => op.holds(&f.int(*a), &f.int(*b)),
            Cond::StrCmp(e, op, s) => op.holds(&e.text(f).as_str(), &&**s),
            Cond::StrIn(e, items) => {
                let text = e.text(f);
                let s = text.as_str();
                items.binary_search_by(|item| (**item).cmp(s)).is_ok()
            }
            Cond::StrFn(func, e, lit) => func
                .tests_string()
                .is_some_and(|test| test(e.text(f).as_str(), lit)),
            Cond::InClaim(left, name) => {
                let Some(claim) = f.claim(name) else {
                    return false;
                };
                match left {
                    StrOperand::Literal(s) => claim_holds(claim, s),
                    StrOperand::Expr(e) => claim_holds(claim, e.text(f).as_str()),
                }
            }
        }
    }

    /// The condition's value if what is known already decides it, whatever the body still to
    /// come adds (Kleene's three-valued logic); `None` when the body could change it. Without a
    /// pending body this is `Some(self.eval(f))`. Detections only grow as the body is scanned:
    /// a kind found is true for good, a kind not found yet is unknown, and `detected_count`
    /// can only rise. What the body holds ([`Source::Body`] variables, `mcp_arg()`) is
    /// unknown; the headers, `header()`, `claim()` and the caller are known.
    pub fn decided(&self, f: &Facts) -> Option<bool> {
        if !f.body_pending {
            return Some(self.eval(f));
        }
        match self {
            Cond::Has(k) => f.detected.contains(*k).then_some(true),
            // The response is further away than the body: unknown.
            Cond::ResponseHas(_) => None,
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
            Cond::Bool(v) | Cond::IntCmp(v, ..) if v.needs_body() || v.needs_response() => None,
            Cond::IntVars(a, _, b)
                if a.needs_body() || b.needs_body() || a.needs_response() || b.needs_response() =>
            {
                None
            }
            Cond::StrCmp(e, ..) | Cond::StrIn(e, _) | Cond::StrFn(_, e, _) if e.needs_body() => {
                None
            }
            Cond::InClaim(StrOperand::Expr(e), _) if e.needs_body() => None,
            Cond::Const(_)
            | Cond::Bool(_)
            | Cond::IntCmp(..)
            | Cond::IntVars(..)
            | Cond::StrCmp(..)
            | Cond::StrIn(..)
            | Cond::StrFn(..)
            | Cond::InClaim(..) => Some(self.eval(f)),
        }
    }

    /// The constant value of the condition, when the manifest alone decides it.
    pub fn constant(&self) -> Option<bool> {
        match self {
            Cond::Const(b) => Some(*b),
            _ => None,
        }
    }

    /// What the condition reads per request (a folded part reads nothing).
    pub fn uses(&self) -> Uses {
        let mut u = Uses::default();
        u.add(self);
        u
    }
}

/// What compiled conditions read per request: the variables, the header names (lower-case)
/// and claim names they look up, whether they read MCP arguments, and the detectors. The
/// exchange keeps only these values of a request. [`Uses::add`] each rule's [`Cond`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uses {
    /// `header('name')`: the names, lower-case.
    pub headers: BTreeSet<String>,
    /// `claim('name')` and `… in claim('name')`: the names.
    pub claims: BTreeSet<String>,
    /// Some `mcp_arg('path')`.
    pub mcp_args: bool,
    /// The per-request variables read (by [`Var::index`]).
    vars: [bool; VAR_COUNT],
    /// The `has_<type>` detectors read.
    pub detectors: KindSet,
    /// The `response_has_<type>` detectors read.
    pub response_detectors: KindSet,
}

// By hand: `[bool; N]` is `Default` only up to 32 members.
impl Default for Uses {
    fn default() -> Self {
        Uses {
            headers: BTreeSet::new(),
            claims: BTreeSet::new(),
            mcp_args: false,
            vars: [false; VAR_COUNT],
            detectors: KindSet::default(),
            response_detectors: KindSet::default(),
        }
    }
}

impl Uses {
    /// Adds what `cond` reads.
    pub fn add(&mut self, cond: &Cond) {
        match cond {
            Cond::Const(_) => {}
            Cond::Has(k) => self.detectors = self.detectors.with(*k),
            Cond::ResponseHas(k) => self.response_detectors = self.response_detectors.with(*k),
            Cond::Not(c) => self.add(c),
            Cond::And(a, b) | Cond::Or(a, b) | Cond::BoolEq(a, b) => {
                self.add(a);
                self.add(b);
            }
            Cond::Bool(v) | Cond::IntCmp(v, ..) => self.var(*v),
            Cond::IntVars(a, _, b) => {
                self.var(*a);
                self.var(*b);
            }
            Cond::StrCmp(e, ..) | Cond::StrIn(e, _) | Cond::StrFn(_, e, _) => self.expr(e),
            Cond::InClaim(left, name) => {
                if let StrOperand::Expr(e) = left {
                    self.expr(e);
                }
                self.claims.insert(name.to_string());
            }
        }
    }

    /// Whether a condition added reads what the body asks for (a protocol variable, or
    /// `mcp_arg`): the exchange then parses it before evaluating. `action` is computed from
    /// the actions' own conditions, which are added too.
    pub fn reads_body_protocol(&self) -> bool {
        self.mcp_args
            || Var::ALL
                .iter()
                .any(|v| *v != Var::Action && v.needs_body() && self.reads(*v))
    }

    /// Whether a condition added reads the response (`response_has_<type>`,
    /// `response_status`, ...): such a rule is decided on the response.
    pub fn reads_response(&self) -> bool {
        !self.response_detectors.is_empty()
            || Var::ALL
                .iter()
                .any(|v| v.needs_response() && self.reads(*v))
    }

    /// Whether a condition added reads the per-request variable `var`.
    pub fn reads(&self, var: Var) -> bool {
        self.vars.get(var.index()).copied().unwrap_or(false)
    }

    fn var(&mut self, var: Var) {
        if let Some(slot) = self.vars.get_mut(var.index()) {
            *slot = true;
        }
    }

    fn expr(&mut self, e: &StrExpr) {
        match e {
            StrExpr::Var(v) => self.var(*v),
            StrExpr::Header(name) => {
                self.headers.insert(name.to_string());
            }
            StrExpr::Claim(name) => {
                self.claims.insert(name.to_string());
            }
            StrExpr::McpArg(_) => self.mcp_args = true,
            StrExpr::NormalizePath(inner, _) => self.expr(inner),
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
    Dyn(StrExpr, Option<&'static [&'static str]>),
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
        Ast::In {
            left,
            right,
            column,
            ..
        } => out.extend(fixed_items(left, right, *column)),
        _ => {}
    }
}

/// `var in [...]` with items of another shape than the variable's (`caller_spiffe_id in
/// ['billing']`): each such item can never match.
fn fixed_items(left: &Ast, right: &Ast, column: usize) -> Vec<RuleWarning> {
    let (Ast::Var(name, _), Ast::List(items, _)) = (left, right) else {
        return Vec::new();
    };
    let Some(Type::Str(shape)) = Var::by_name(name).map(|v| v.spec().ty) else {
        return Vec::new();
    };
    let never: Vec<(&str, &str)> = items
        .iter()
        .filter_map(|(s, _)| shape.never(s).map(|why| (s.as_str(), why)))
        .collect();
    let Some((_, why)) = never.first() else {
        return Vec::new();
    };
    let shown: Vec<String> = never.iter().map(|(s, _)| format!("'{s}'")).collect();
    let message = if never.len() == items.len() {
        format!("`{name} in [...]` is false for every request: {why}")
    } else {
        format!(
            "in `{name} in [...]`, {} never match: {why}",
            shown.join(", ")
        )
    };
    vec![RuleWarning { column, message }]
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
        Ast::In {
            left,
            right,
            negated,
            ..
        } => {
            let c = membership(left, right, env)?;
            Val::Bool(if *negated { not(c) } else { c })
        }
        Ast::Call(name, args, col) => call(name, args, *col, env)?,
        // The parser reads a list only after `in`.
        Ast::List(_, col) => {
            return Err(RuleError::new(
                *col,
                "a list `[...]` only follows `in` (`x in ['a', 'b']`)",
            ))
        }
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
        return Err(RuleError::new(col, unknown_variable(name)));
    };
    let spec = var.spec();
    Ok(match (spec.source, spec.ty) {
        (Source::Detector, _) => Val::Bool(Cond::Has(detector(name, HAS_PREFIX, col, env)?)),
        (Source::ResponseDetector, _) => Val::Bool(Cond::ResponseHas(detector(
            name,
            RESPONSE_HAS_PREFIX,
            col,
            env,
        )?)),
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
        (Source::Request | Source::Body | Source::Response, Type::Bool) => {
            Val::Bool(Cond::Bool(var))
        }
        (Source::Request | Source::Body | Source::Response, Type::Int { .. }) => {
            Val::Int(IntVal::Var(var))
        }
        (Source::Request | Source::Body | Source::Response, Type::Str(_)) => {
            Val::Str(StrVal::Dyn(StrExpr::Var(var), None))
        }
        (Source::Request | Source::Body | Source::Response, Type::Enum { values, .. }) => {
            Val::Str(StrVal::Dyn(StrExpr::Var(var), Some(values)))
        }
    })
}

/// The error for a name that is no variable: the closest variable, or that it is a
/// function, or the list of variables.
fn unknown_variable(name: &str) -> String {
    if let Some(f) = Func::by_name(name) {
        return format!("`{name}` is a function: call it, `{}`", f.spec().signature);
    }
    let names = Var::ALL
        .iter()
        .map(|v| v.spec().name)
        .filter(|n| *n != Var::Has.spec().name && *n != Var::ResponseHas.spec().name);
    match suggest(name, names) {
        Some(near) => format!("unknown variable `{name}`; did you mean `{near}`?"),
        None => format!("unknown variable `{name}`; variables are: {}", Var::names()),
    }
}

/// The detector a `has_<type>` (or `response_has_<type>`: `prefix`) names, which must be
/// enabled.
fn detector(name: &str, prefix: &str, col: usize, env: &Env) -> Result<Kind, RuleError> {
    let ty = name.strip_prefix(prefix).unwrap_or(name);
    if let Some(t) = ty
        .strip_suffix("_in_response")
        .filter(|t| prefix == HAS_PREFIX && env.scanner.kind_by_name(t).is_some())
    {
        // `has_ssn_in_response`, as one might write it.
        return Err(RuleError::new(
            col,
            format!("unknown variable `{name}`; did you mean `{RESPONSE_HAS_PREFIX}{t}`?"),
        ));
    }
    let kind = env.scanner.kind_by_name(ty).ok_or_else(|| {
        let names = env.scanner.all_names();
        let message = match suggest(ty, names.iter().map(String::as_str)) {
            Some(near) => {
                format!("unknown detector type `{ty}` in `{name}`; did you mean `{prefix}{near}`?")
            }
            None => format!(
                "unknown detector type `{ty}` in `{name}`; types are: {}",
                names.join(", ")
            ),
        };
        RuleError::new(col, message)
    })?;
    if !env.scanner.enabled().contains(kind) {
        return Err(RuleError::new(
            col,
            format!("`{name}` needs the `{ty}` detector, which is not in detectors.enabled"),
        ));
    }
    Ok(kind)
}

/// A function call, typed; a test of strings the configuration fixes is folded.
fn call(name: &str, args: &[Ast], col: usize, env: &Env) -> Result<Val, RuleError> {
    let Some(func) = Func::by_name(name) else {
        let message = if Var::by_name(name).is_some() {
            format!(
                "`{name}` is a variable, not a function; functions are: {}",
                Func::signatures()
            )
        } else {
            let near = suggest(name, Func::ALL.iter().map(|f| f.spec().name))
                .map(|n| format!(" did you mean `{n}`?"))
                .unwrap_or_default();
            format!(
                "unknown function `{name}`;{near} functions are: {}",
                Func::signatures()
            )
        };
        return Err(RuleError::new(col, message));
    };
    let spec = func.spec();
    if args.len() != spec.arity {
        let at = args.get(spec.arity).map_or(col, Ast::column);
        return Err(RuleError::new(
            at,
            format!(
                "`{}` takes {} argument{}, found {}",
                spec.signature,
                spec.arity,
                if spec.arity == 1 { "" } else { "s" },
                args.len()
            ),
        ));
    }
    let style = match func {
        Func::NormalizePath => Some(PathStyle::Posix),
        Func::NormalizeWindowsPath => Some(PathStyle::Windows),
        _ => None,
    };
    if let Some(style) = style {
        return Ok(Val::Str(
            match args.first().map(|a| value(a, env)).transpose()? {
                Some(Val::Str(StrVal::Literal(s))) => StrVal::Literal(style.normalize(&s)),
                Some(Val::Str(StrVal::Enum { value, .. })) => {
                    StrVal::Literal(style.normalize(value))
                }
                Some(Val::Str(StrVal::Dyn(e, _))) => {
                    StrVal::Dyn(StrExpr::NormalizePath(Box::new(e), style), None)
                }
                other => {
                    return Err(RuleError::new(
                        args.first().map_or(col, Ast::column),
                        format!(
                            "the argument of `{}` is a string; this one is {}",
                            spec.signature,
                            other.as_ref().map_or("missing", type_name)
                        ),
                    ))
                }
            },
        ));
    }
    let Some(test) = func.tests_string() else {
        let (literal, lcol) = literal_arg(func, args, 0, col)?;
        let expr = match func {
            Func::Header => {
                if !is_header_name(literal) {
                    return Err(RuleError::new(
                        lcol,
                        format!(
                            "'{}' is not a header name: a token of letters, digits and !#$%&'*+-.^_`|~ (RFC 9110 §5.6.2), or `:` and one for a pseudo-header (`:authority`)",
                            literal.escape_debug()
                        ),
                    ));
                }
                StrExpr::Header(literal.to_ascii_lowercase().into())
            }
            Func::Claim if literal.is_empty() => {
                return Err(RuleError::new(lcol, "a claim name is not empty"))
            }
            Func::Claim => StrExpr::Claim(literal.into()),
            _ => StrExpr::McpArg(ArgStep::parse_path(literal).map_err(|at| {
                RuleError::new(
                    lcol + at,
                    "an empty step: `mcp_arg` paths are member names and array indexes separated by `.` (`path`, `files.0.name`)",
                )
            })?),
        };
        return Ok(Val::Str(StrVal::Dyn(expr, None)));
    };
    let subject = args.first().map_or(Ok(None), |a| value(a, env).map(Some))?;
    let (literal, _) = literal_arg(func, args, 1, col)?;
    Ok(Val::Bool(match subject {
        Some(Val::Str(StrVal::Literal(s))) => Cond::Const(test(&s, literal)),
        Some(Val::Str(StrVal::Enum { value, .. })) => Cond::Const(test(value, literal)),
        // Every string starts with, ends with and contains ''.
        Some(Val::Str(StrVal::Dyn(..))) if literal.is_empty() => Cond::Const(true),
        Some(Val::Str(StrVal::Dyn(e, _))) => Cond::StrFn(func, e, literal.into()),
        other => {
            return Err(RuleError::new(
                args.first().map_or(col, Ast::column),
                format!(
                    "the first argument of `{}` is a string; this one is {}",
                    spec.signature,
                    other.as_ref().map_or("missing", type_name)
                ),
            ))
        }
    }))
}

/// The quoted string a function takes as its argument `i`, and its column.
fn literal_arg(func: Func, args: &[Ast], i: usize, col: usize) -> Result<(&str, usize), RuleError> {
    match args.get(i) {
        Some(Ast::Str(s, c)) => Ok((s, *c)),
        other => Err(RuleError::new(
            other.map_or(col, Ast::column),
            format!(
                "argument {} of `{}` is a quoted string, fixed when the configuration loads",
                i + 1,
                func.spec().signature
            ),
        )),
    }
}

/// `left in right`: `right` a list literal, or `claim('name')` read as a list.
fn membership(left: &Ast, right: &Ast, env: &Env) -> Result<Cond, RuleError> {
    // `!` binds tighter than `in`, as it does than `==`.
    if let Ast::Not(inner, col) = left {
        if let Ok(Val::Str(_)) = value(inner, env) {
            return Err(RuleError::new(
                *col,
                "`!x in [...]` reads as `(!x) in [...]`; write `!(x in [...])` or `x not in [...]`",
            ));
        }
    }
    let l = match value(left, env)? {
        Val::Str(s) => s,
        other => {
            return Err(RuleError::new(
                left.column(),
                format!(
                    "`in` needs a string on its left, not {}; to negate a membership write `!(x in [...])` or `x not in [...]`",
                    type_name(&other)
                ),
            ))
        }
    };
    match right {
        Ast::List(items, _) => list_membership(l, items),
        Ast::Call(name, _, _) if Func::by_name(name) == Some(Func::Claim) => {
            let Val::Str(StrVal::Dyn(StrExpr::Claim(claim), _)) = value(right, env)? else {
                return Err(RuleError::new(right.column(), "expected `claim('name')`"));
            };
            let left = match l {
                StrVal::Literal(s) => StrOperand::Literal(s.into()),
                StrVal::Enum { value, .. } => StrOperand::Literal(value.into()),
                StrVal::Dyn(e, _) => StrOperand::Expr(e),
            };
            Ok(Cond::InClaim(left, claim))
        }
        other => Err(RuleError::new(
            other.column(),
            "`in` needs a list (`['a', 'b']`) or `claim('name')` on its right",
        )),
    }
}

/// `s in [...]`: every item checked against a closed set; folded when `s` is fixed.
fn list_membership(l: StrVal, items: &[(String, usize)]) -> Result<Cond, RuleError> {
    Ok(match l {
        StrVal::Literal(s) => Cond::Const(items.iter().any(|(i, _)| *i == s)),
        StrVal::Enum {
            var,
            value,
            values,
            aliases,
        } => {
            let mut holds = false;
            for (item, c) in items {
                holds |= closed_set_literal(var, item, values, aliases, *c)? == value;
            }
            Cond::Const(holds)
        }
        StrVal::Dyn(e, values) => {
            if let (Some(values), StrExpr::Var(var)) = (values, &e) {
                for (item, c) in items {
                    closed_set_literal(*var, item, values, &[], *c)?;
                }
            }
            let mut sorted: Vec<Box<str>> = items.iter().map(|(i, _)| i.as_str().into()).collect();
            sorted.sort_unstable();
            sorted.dedup();
            Cond::StrIn(e, sorted.into_boxed_slice())
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
        (StrVal::Dyn(e, values), StrVal::Literal(s))
        | (StrVal::Literal(s), StrVal::Dyn(e, values)) => {
            if let (Some(values), StrExpr::Var(v)) = (values, &e) {
                closed_set_literal(*v, &s, values, &[], literal_col)?;
            }
            Cond::StrCmp(e, op, s.into_boxed_str())
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
    /// A request's lookups, by hand.
    #[derive(Default)]
    struct Looked {
        headers: Vec<(&'static str, &'static str)>,
        claims: serde_json::Map<String, serde_json::Value>,
        args: serde_json::Value,
    }

    impl Lookup for Looked {
        fn header(&self, name: &str) -> Option<&str> {
            self.headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| *v)
        }
        fn claim(&self, name: &str) -> Option<&serde_json::Value> {
            self.claims.get(name)
        }
        fn mcp_arg(&self, path: &[ArgStep]) -> Option<&serde_json::Value> {
            ArgStep::walk(&self.args, path)
        }
    }

    fn looked(claims: serde_json::Value, args: serde_json::Value) -> Looked {
        Looked {
            headers: vec![("x-env", "prod"), (":authority", "agent.example")],
            claims: claims.as_object().cloned().unwrap_or_default(),
            args,
        }
    }

    /// The values of a caller and of an MCP `tools/call`.
    fn caller<'a>(f: Facts<'a>, level: &'a str, tier: i64) -> Facts<'a> {
        f.with(Var::Caller, Value::Str("billing"))
            .with(
                Var::CallerId,
                Value::Str("spiffe://example.org/ns/billing/sa/agent"),
            )
            .with(Var::CallerSource, Value::Str("spiffe"))
            .with(
                Var::CallerSpiffeId,
                Value::Str("spiffe://example.org/ns/billing/sa/agent"),
            )
            .with(Var::CallerTrustDomain, Value::Str("example.org"))
            .with(Var::CallerTrustLevel, Value::Str(level))
            .with(Var::CallerTier, Value::Int(tier))
            .with(Var::CallerTrustScore, Value::Int(5))
    }

    fn call<'a>(f: Facts<'a>, method: &'a str, tool: &'a str) -> Facts<'a> {
        f.with(Var::Protocol, Value::Str("mcp"))
            .with(Var::RpcMethod, Value::Str(method))
            .with(Var::McpTool, Value::Str(tool))
            .with(Var::OpenaiStream, Value::Bool(false))
    }

    fn standard() -> Manifest {
        manifest("standard", "ephemeral")
    }

    #[test]
    fn the_issue_examples() {
        let m = standard();
        let e = env(&m);
        let none = Looked::default();

        let c = compile("mcp_tool == 'delete_file' && caller_tier < 3", &e).unwrap();
        let f = |tool, tier| {
            call(
                caller(facts(&[], "POST", "/mcp"), "trusted", tier),
                "tools/call",
                tool,
            )
        };
        assert!(c.eval(&f("delete_file", 2)));
        assert!(!c.eval(&f("delete_file", 3)));
        assert!(!c.eval(&f("read_file", 0)));
        // The caller is known on the headers, the tool once the body is read.
        let headers = |tier| caller(facts(&[], "POST", "/mcp"), "trusted", tier).body_pending();
        assert_eq!(c.decided(&headers(2)), None);
        assert_eq!(c.decided(&headers(3)), Some(false));

        let c = compile(
            "rpc_method == 'tools/call' && starts_with(mcp_arg('path'), '/etc/')",
            &e,
        )
        .unwrap();
        let etc = looked(json!({}), json!({"path": "/etc/passwd"}));
        let home = looked(json!({}), json!({"path": "/home/a", "etc": "/etc/x"}));
        let f = |method, l: &'static Looked| {
            call(facts(&[], "POST", "/mcp"), method, "read_file").with_lookup(l)
        };
        let etc: &'static Looked = Box::leak(Box::new(etc));
        let home: &'static Looked = Box::leak(Box::new(home));
        assert!(c.eval(&f("tools/call", etc)));
        assert!(!c.eval(&f("tools/call", home)));
        assert!(!c.eval(&f("resources/read", etc)));
        assert!(!c.eval(&call(facts(&[], "POST", "/mcp"), "tools/call", "x")));
        assert!(!c.eval(&call(facts(&[], "POST", "/mcp"), "tools/call", "x").with_lookup(&none)));
        assert_eq!(c.decided(&f("tools/call", etc).body_pending()), None);

        let c = compile("has_ssn && caller_trust_level == 'unknown'", &e).unwrap();
        let f = |found: &[Kind], level| caller(facts(found, "POST", "/a2a"), level, 0);
        assert!(c.eval(&f(&[Kind::SSN], "unknown")));
        assert!(!c.eval(&f(&[Kind::SSN], "trusted")));
        assert!(!c.eval(&f(&[], "unknown")));
        assert_eq!(
            c.decided(&f(&[Kind::SSN], "unknown").body_pending()),
            Some(true)
        );
        assert_eq!(c.decided(&f(&[], "unknown").body_pending()), None);
        assert_eq!(c.decided(&f(&[], "trusted").body_pending()), Some(false));
    }

    /// The examples as a configuration's rules: block, block, warn.
    #[test]
    fn the_issue_examples_as_policy() {
        use crate::policy::Verdict;
        let p = crate::config::parse(
            json!({
                "manifest": {"identity": {"agent_id": "a"}, "trust_level": "standard",
                             "privacy": {"retention": "ephemeral"}},
                "detectors": {"enabled": ["ssn"]},
                "policy": {"block_rules": [
                    {"name": "tier", "condition": "mcp_tool == 'delete_file' && caller_tier < 3", "action": "block"},
                    {"name": "etc", "condition": "rpc_method == 'tools/call' && starts_with(mcp_arg('path'), '/etc/')", "action": "block"},
                    {"name": "ssn", "condition": "has_ssn && caller_trust_level == 'unknown'", "action": "warn", "message": "ssn"}
                ]}
            })
            .to_string()
            .as_bytes(),
        )
        .unwrap();
        let etc = looked(json!({}), json!({"path": "/etc/shadow"}));
        let base = || caller(facts(&[], "POST", "/mcp"), "trusted", 5);
        let name = |v: Verdict| match v {
            Verdict::Block(r) => r.name.clone(),
            other => format!("{other:?}"),
        };
        assert_eq!(
            name(p.evaluate(&call(
                caller(facts(&[], "POST", "/"), "trusted", 1),
                "tools/call",
                "delete_file"
            ))),
            "tier"
        );
        assert_eq!(
            name(p.evaluate(&call(base(), "tools/call", "read").with_lookup(&etc))),
            "etc"
        );
        assert_eq!(
            p.evaluate(&call(base(), "tools/call", "read")),
            Verdict::Allow
        );
        let ssn = call(
            caller(facts(&[Kind::SSN], "POST", "/"), "unknown", 5),
            "",
            "",
        );
        assert_eq!(p.evaluate(&ssn), Verdict::Warn(vec!["ssn"]));
    }

    #[test]
    fn lists_and_in() {
        let m = standard();
        let e = env(&m);
        let c = compile("caller_source in ['spiffe', 'jwt']", &e).unwrap();
        let f = |source| facts(&[], "GET", "/").with(Var::CallerSource, Value::Str(source));
        assert!(c.eval(&f("jwt")) && c.eval(&f("spiffe")));
        assert!(!c.eval(&f("header")) && !c.eval(&facts(&[], "GET", "/")));
        let c = compile("protocol not in ['mcp', 'a2a']", &e).unwrap();
        let p = |proto| facts(&[], "GET", "/").with(Var::Protocol, Value::Str(proto));
        assert!(c.eval(&p("http")) && !c.eval(&p("a2a")));
        assert_eq!(
            c,
            compile("!(protocol in ['a2a', 'mcp', 'a2a'])", &e).unwrap()
        );
        // Items sorted and deduplicated for the binary search.
        assert_eq!(
            compile("method in ['POST', 'GET', 'POST', 'DELETE']", &e).unwrap(),
            Cond::StrIn(
                StrExpr::Var(Var::Method),
                vec!["DELETE".into(), "GET".into(), "POST".into()].into_boxed_slice()
            )
        );
        let c = compile("method in ['POST', 'PUT']", &e).unwrap();
        assert!(c.eval(&facts(&[], "PUT", "/")) && !c.eval(&facts(&[], "GET", "/")));
        let c = compile("header('X-Env') in ['prod', 'stage']", &e).unwrap();
        let l = looked(json!({}), json!({}));
        assert!(c.eval(&facts(&[], "GET", "/").with_lookup(&l)));
        assert!(!c.eval(&facts(&[], "GET", "/")));
        // Literals fold; so do the manifest's values (an alias stands for its value).
        assert_eq!(compile("'a' in ['a', 'b']", &e).unwrap(), Cond::Const(true));
        assert_eq!(
            compile("'c' not in ['a', 'b']", &e).unwrap(),
            Cond::Const(true)
        );
        assert_eq!(
            compile("trust_level in ['trusted', 'standard']", &e).unwrap(),
            Cond::Const(true)
        );
        let untrusted = manifest("untrusted", "forever");
        let u = env(&untrusted);
        assert_eq!(
            compile("trust_level in ['trusted', 'standard']", &u).unwrap(),
            Cond::Const(false)
        );
        assert_eq!(
            compile("has_ssn && retention in ['forever', 'temporary']", &u).unwrap(),
            Cond::Has(Kind::SSN)
        );
        assert_eq!(
            compile("retention not in ['permanent']", &u).unwrap(),
            Cond::Const(false)
        );
    }

    #[test]
    fn claims_and_lookups() {
        let m = standard();
        let e = env(&m);
        let l = looked(
            json!({"groups": ["ops", "admin"], "scope": "read write", "tier": 3.0,
                   "verified": true, "sub": "user-1", "obj": {"a": 1}, "tools": "delete_file read_file"}),
            json!({"files": [{"name": "a.txt"}, {"name": 7}], "force": false, "opts": {"x": 1}}),
        );
        let f = facts(&[], "POST", "/").with_lookup(&l);
        let holds = |src: &str| compile(src, &e).unwrap().eval(&f);
        assert!(holds("'admin' in claim('groups')"));
        assert!(!holds("'root' in claim('groups')"));
        assert!(holds("'write' in claim('scope')"));
        assert!(holds("'read write' in claim('scope')"));
        assert!(!holds("'rea' in claim('scope')"));
        assert!(holds("'user-1' in claim('sub')"));
        assert!(holds("'3' in claim('tier')"));
        assert!(!holds("'a' in claim('obj')"));
        assert!(!holds("'x' in claim('absent')"));
        assert!(holds("'x' not in claim('absent')"));
        assert!(holds("claim('tier') == '3'"));
        assert!(holds("claim('verified') == 'true'"));
        assert!(holds("claim('sub') == 'user-1'"));
        // A list or object claim reads as its JSON text; `in` reads a list's items.
        assert!(holds(r#"claim('groups') == '["ops","admin"]'"#));
        assert!(holds(
            r#"claim('obj') == '{"a":1}' && claim('absent') == ''"#
        ));
        assert!(holds("mcp_arg('files.0.name') == 'a.txt'"));
        assert!(holds("mcp_arg('files.1.name') == '7'"));
        assert!(holds("mcp_arg('force') == 'false'"));
        assert!(holds(
            r#"mcp_arg('opts') == '{"x":1}' && mcp_arg('files.9') == ''"#
        ));
        assert!(holds("contains(mcp_arg('files'), 'a.txt')"));
        assert!(holds(
            "header('X-ENV') == 'prod' && header(':authority') == 'agent.example'"
        ));
        assert!(holds("header('x-absent') == ''"));
        assert!(holds("ends_with(header(':authority'), '.example')"));
        assert!(holds("contains(claim('scope'), 'ad wr')"));
        assert!(!holds("contains(claim('scope'), 'admin')"));
        // Without a lookup, every lookup is absent.
        let bare = facts(&[], "POST", "/");
        let c = compile(
            "header('x-env') == '' && claim('sub') == '' && mcp_arg('a') == ''",
            &e,
        )
        .unwrap();
        assert!(c.eval(&bare));
        // A variable in a claim: the tool among those the token lists.
        let c = compile("mcp_tool in claim('tools')", &e).unwrap();
        assert!(c.eval(&call(f, "tools/call", "delete_file")));
        assert!(!c.eval(&call(f, "tools/call", "drop")));
        assert_eq!(
            compile("trust_level in claim('levels')", &e).unwrap(),
            Cond::InClaim(StrOperand::Literal("standard".into()), "levels".into())
        );
        // Header names are lower-cased once, at compile time.
        assert_eq!(
            compile("header('X-Caller-ID') == 'a'", &e).unwrap(),
            Cond::StrCmp(StrExpr::Header("x-caller-id".into()), CmpOp::Eq, "a".into())
        );
    }

    #[test]
    fn string_functions() {
        let m = standard();
        let e = env(&m);
        let f = facts(&[], "POST", "/api/v1/users");
        let holds = |src: &str| compile(src, &e).unwrap().eval(&f);
        assert!(holds("starts_with(path, '/api/')"));
        assert!(!holds("starts_with(path, '/v1')"));
        assert!(holds("ends_with(path, '/users')"));
        assert!(holds("contains(path, '/v1/')"));
        assert!(!holds("contains(method, 'p')"));
        assert!(holds("!ends_with(path, '/')"));
        // What the configuration fixes folds; so does an empty literal.
        assert_eq!(
            compile("starts_with(trust_level, 'stan')", &e).unwrap(),
            Cond::Const(true)
        );
        assert_eq!(
            compile("contains('abc', 'd')", &e).unwrap(),
            Cond::Const(false)
        );
        assert_eq!(
            compile("ends_with(mcp_tool, '')", &e).unwrap(),
            Cond::Const(true)
        );
        assert_eq!(
            compile("starts_with(mcp_tool, 'delete_')", &e).unwrap(),
            Cond::StrFn(
                Func::StartsWith,
                StrExpr::Var(Var::McpTool),
                "delete_".into()
            )
        );
    }

    #[test]
    fn what_the_headers_decide_of_the_caller_and_the_body() {
        let m = standard();
        let e = env(&m);
        let l = looked(json!({"groups": ["ops"]}), json!({}));
        let headers = caller(facts(&[], "POST", "/"), "trusted", 4)
            .with_lookup(&l)
            .body_pending();
        let decided = |src: &str| compile(src, &e).unwrap().decided(&headers);
        for body in [
            "protocol == 'mcp'",
            "protocol in ['mcp', 'a2a']",
            "openai_stream",
            "!openai_stream",
            "rpc_method == ''",
            "mcp_arg('a') == ''",
            "starts_with(mcp_tool, 'x')",
            "mcp_tool in ['a']",
            "mcp_tool in claim('groups')",
            "action == 'delete_file'",
            "caller_tier > 1 && a2a_role == 'user'",
        ] {
            assert_eq!(decided(body), None, "{body}");
        }
        for (known, value) in [
            ("caller_tier >= 3", true),
            ("caller_trust_score == 5", true),
            ("caller_source == 'spiffe'", true),
            ("caller_trust_level in ['unknown', 'untrusted']", false),
            (
                "starts_with(caller_spiffe_id, 'spiffe://example.org/')",
                true,
            ),
            (
                "caller_trust_domain == 'example.org' && caller == 'billing'",
                true,
            ),
            ("header('x-env') == 'prod'", true),
            ("'ops' in claim('groups')", true),
            ("claim('sub') != ''", false),
            ("caller_tier > 5 && mcp_tool == 'x'", false),
            ("caller_tier < 5 || protocol == 'mcp'", true),
        ] {
            assert_eq!(decided(known), Some(value), "{known}");
        }
        // Once the body is read (or without one) it is all known.
        let c = compile("protocol == 'http' && !openai_stream", &e).unwrap();
        let read = facts(&[], "GET", "/")
            .with(Var::Protocol, Value::Str("http"))
            .with(Var::OpenaiStream, Value::Bool(false));
        assert_eq!(c.decided(&read), Some(true));
    }

    #[test]
    fn uses_name_what_the_exchange_keeps() {
        let m = standard();
        let e = env(&m);
        let c = compile(
            "header('X-A') == 'b' && 'g' in claim('groups') || claim('sub') == 'u' \
             && mcp_arg('p.0') == '' && caller_tier > 1 && has_ssn && !openai_stream \
             && starts_with(header('x-b'), 'q')",
            &e,
        )
        .unwrap();
        let u = c.uses();
        assert_eq!(u.headers.iter().collect::<Vec<_>>(), ["x-a", "x-b"]);
        assert_eq!(u.claims.iter().collect::<Vec<_>>(), ["groups", "sub"]);
        assert!(u.mcp_args);
        assert!(u.reads(Var::CallerTier) && u.reads(Var::OpenaiStream));
        assert!(!u.reads(Var::McpTool) && !u.reads(Var::TrustLevel));
        assert!(u.detectors.contains(Kind::SSN) && !u.detectors.contains(Kind::EMAIL));
        // A part the manifest folds away reads nothing.
        let c = compile("trust_level == 'trusted' && header('y') == ''", &e).unwrap();
        assert_eq!(c.uses(), Uses::default());
        // Across rules.
        let mut all = Uses::default();
        all.add(&compile("mcp_tool in claim('tools')", &e).unwrap());
        all.add(&compile("header('Z') == 'z'", &e).unwrap());
        assert_eq!(all.claims.iter().collect::<Vec<_>>(), ["tools"]);
        assert_eq!(all.headers.iter().collect::<Vec<_>>(), ["z"]);
        assert!(all.reads(Var::McpTool) && !all.mcp_args);
    }

    #[test]
    fn every_new_error_names_its_column() {
        let m = standard();
        let e = env(&m);
        let err = |s: &str| compile(s, &e).unwrap_err();
        let check = |s: &str, column: usize, message: &str| {
            let x = err(s);
            assert_eq!(x.column, column, "{s}: {}", x.message);
            assert!(x.message.contains(message), "{s}: {}", x.message);
        };
        // Suggestions.
        assert_eq!(
            err("mcp_tol == 'x'"),
            RuleError::new(1, "unknown variable `mcp_tol`; did you mean `mcp_tool`?")
        );
        check(
            "has_ssn && caller_teir > 1",
            12,
            "did you mean `caller_tier`?",
        );
        check("zzzz", 1, "variables are: has_<type>, detected_count");
        check(
            "has_sn",
            1,
            "unknown detector type `sn` in `has_sn`; did you mean `has_ssn`?",
        );
        check("has_cc", 1, "types are:");
        check(
            "header == 'x'",
            1,
            "`header` is a function: call it, `header('name')`",
        );
        check(
            "heder('x') == ''",
            1,
            "unknown function `heder`; did you mean `header`? functions are: header('name'), claim('name'), mcp_arg('path'), starts_with(s, 'prefix')",
        );
        check(
            "frobnicate('x')",
            1,
            "unknown function `frobnicate`; functions are:",
        );
        check(
            "mcp_tool('x') == ''",
            1,
            "`mcp_tool` is a variable, not a function",
        );
        // Arity and argument types.
        check(
            "header() == ''",
            1,
            "`header('name')` takes 1 argument, found 0",
        );
        check("header('a', 'b') == ''", 13, "takes 1 argument, found 2");
        check(
            "starts_with(method)",
            1,
            "`starts_with(s, 'prefix')` takes 2 arguments, found 1",
        );
        check("contains(path, 'a', 'b')", 21, "takes 2 arguments, found 3");
        check(
            "header(method) == ''",
            8,
            "argument 1 of `header('name')` is a quoted string",
        );
        check("mcp_arg(1) == ''", 9, "argument 1 of `mcp_arg('path')`");
        check(
            "starts_with(method, path)",
            21,
            "argument 2 of `starts_with(s, 'prefix')`",
        );
        check(
            "starts_with(caller_tier, 'a')",
            13,
            "the first argument of `starts_with(s, 'prefix')` is a string; this one is an integer",
        );
        check("ends_with(has_ssn, 'a')", 11, "this one is true/false");
        check("starts_with(zz, 'a')", 13, "unknown variable `zz`");
        // Lookup arguments.
        check("header('x y') == ''", 8, "'x y' is not a header name");
        check("header('') == ''", 8, "is not a header name");
        check("header('a:b') == ''", 8, "RFC 9110");
        check("claim('') == ''", 7, "a claim name is not empty");
        check("mcp_arg('a..b') == ''", 12, "an empty step");
        check("mcp_arg('') == ''", 10, "an empty step");
        check("mcp_arg('a.') == ''", 12, "an empty step");
        // A lookup is a string.
        check("header('a')", 1, "the condition is a string");
        check(
            "claim('a') == claim('b')",
            1,
            "compare a variable with a quoted string",
        );
        check("header('a') < 'b'", 13, "does not apply to strings");
        check(
            "claim('tier') > 2",
            15,
            "cannot compare a string with an integer",
        );
        // `in`.
        check(
            "caller_source in ['spiffe', 'spife']",
            29,
            "`caller_source` is never 'spife'; it is one of: spiffe, jwt, header, anonymous",
        );
        check("protocol not in ['mpc']", 18, "`protocol` is never 'mpc'");
        check(
            "trust_level in ['trusted', 'trustd']",
            28,
            "`trust_level` is never 'trustd'",
        );
        check(
            "caller_trust_level in ['high']",
            24,
            "is never 'high'; it is one of: verified_partner",
        );
        check(
            "caller_tier in ['1']",
            1,
            "`in` needs a string on its left, not an integer",
        );
        check(
            "!mcp_tool in ['a']",
            1,
            "write `!(x in [...])` or `x not in [...]`",
        );
        check(
            "mcp_tool in mcp_tool",
            13,
            "`in` needs a list (`['a', 'b']`) or `claim('name')` on its right",
        );
        check("'a' in header('x')", 8, "on its right");
        check("'a' in claim('')", 14, "a claim name is not empty");
        check("'a' in claim(method)", 14, "argument 1 of `claim('name')`");
        check("caller_source == 'spife'", 18, "is never 'spife'");
    }

    #[test]
    fn shapes_of_the_caller_and_the_body_are_warned_about() {
        let m = standard();
        let e = env(&m);
        let warned = |src: &str| {
            let (_, w) = compile_checked(src, &e).unwrap();
            w.into_iter()
                .map(|w| (w.column, w.message))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            warned("caller_spiffe_id == 'billing'"),
            vec![(1, "`caller_spiffe_id == 'billing'` is false for every request: SPIFFE IDs start with `spiffe://` (the name of a directory entry is `caller`)".to_string())]
        );
        assert!(warned("caller_spiffe_id == 'spiffe://example.org/a'").is_empty());
        assert!(warned("caller_spiffe_id == ''").is_empty());
        assert_eq!(
            warned("caller_spiffe_id in ['spiffe://a/b', 'billing']"),
            vec![(18, "in `caller_spiffe_id in [...]`, 'billing' never match: SPIFFE IDs start with `spiffe://` (the name of a directory entry is `caller`)".to_string())]
        );
        assert_eq!(warned("caller_spiffe_id not in ['billing']")[0].1,
            "`caller_spiffe_id in [...]` is false for every request: SPIFFE IDs start with `spiffe://` (the name of a directory entry is `caller`)");
        assert!(warned("caller_trust_domain == 'spiffe://example.org'")[0]
            .1
            .contains("without `spiffe://`"));
        assert!(warned("caller_trust_domain != 'Example.org'")[0]
            .1
            .contains("is true for every request"));
        assert!(warned("caller_trust_domain == 'example.org'").is_empty());
        assert!(warned("a2a_role == 'assistant'")[0]
            .1
            .contains("`user`, `agent` and `unspecified`"));
        assert!(warned("a2a_role in ['user', 'agent']").is_empty());
        assert!(warned("caller_tier > 9")[0]
            .1
            .contains("`caller_tier` is 0..9"));
        assert!(warned("caller_tier >= 0")[0]
            .1
            .contains("true for every request"));
        assert!(warned("caller_trust_score == 11")[0].1.contains("0..10"));
        assert!(warned("caller_tier == 9 && rpc_method == 'anything'").is_empty());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        const TOKENS: &[&str] = &[
            "has_ssn",
            "has_email",
            "caller_tier",
            "caller_source",
            "protocol",
            "mcp_tool",
            "openai_stream",
            "detected_count",
            "method",
            "&&",
            "||",
            "!",
            "==",
            "!=",
            "<",
            ">=",
            "(",
            ")",
            "in",
            "not",
            "[",
            "]",
            ",",
            "'mcp'",
            "'spiffe'",
            "'x'",
            "''",
            "3",
            "header('x-env')",
            "claim('groups')",
            "mcp_arg('a.0')",
            "starts_with(",
            "contains(",
            "'prod'",
            "'ops'",
            "true",
            "x",
        ];

        /// Mostly malformed: token soup.
        fn soup() -> impl Strategy<Value = String> {
            prop::collection::vec(prop::sample::select(TOKENS), 0..24).prop_map(|t| t.join(" "))
        }

        const ATOMS: &[&str] = &[
            "has_ssn",
            "has_email",
            "caller_tier > 3",
            "caller_tier <= 1",
            "protocol == 'mcp'",
            "protocol != 'http'",
            "mcp_tool in ['x', 'mcp']",
            "mcp_tool not in ['']",
            "'ops' in claim('groups')",
            "mcp_tool in claim('groups')",
            "starts_with(mcp_arg('a.0'), 'm')",
            "header('x-env') == 'prod'",
            "openai_stream",
            "detected_count >= 2",
            "detected_count == 1",
            "detected_count < 3",
            "caller_source not in ['jwt']",
            "caller_source == 'spiffe'",
            "contains(mcp_tool, 'c')",
            "trust_level in ['trusted']",
            "claim('sub') == ''",
        ];

        /// Well formed: atoms under `!`, `&&`, `||`, parentheses and `==`.
        fn condition() -> impl Strategy<Value = String> {
            let atom = prop::sample::select(ATOMS).prop_map(str::to_string);
            atom.prop_recursive(4, 24, 2, |inner| {
                prop_oneof![
                    inner.clone().prop_map(|a| format!("!({a})")),
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) && ({b})")),
                    (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) || ({b})")),
                    (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) == ({b})")),
                ]
            })
        }

        proptest! {
            /// Whatever the condition, it compiles or fails with a column inside it; a
            /// well-formed one compiles; a compiled one evaluates; and what the headers
            /// decide, the whole request agrees with, whatever the body adds.
            #[test]
            fn what_the_headers_decide_the_body_does_not_change(
                (src, well_formed) in prop_oneof![
                    soup().prop_map(|s| (s, false)),
                    condition().prop_map(|s| (s, true)),
                ],
                tier in 0i64..=9,
                source in prop::sample::select(variables::CALLER_SOURCES),
                protocol in prop::sample::select(variables::PROTOCOLS),
                tool in prop::sample::select(&["x", "mcp", ""][..]),
                stream: bool,
                ssn_early: bool,
                ssn_late: bool,
                email_late: bool,
                late_count in 0usize..3,
            ) {
                let m = standard();
                let e = env(&m);
                let compiled = compile(&src, &e);
                if let Err(err) = &compiled {
                    prop_assert!(err.column >= 1 && err.column <= src.chars().count() + 1, "{err:?}");
                }
                let Ok(c) = compiled else {
                    prop_assert!(!well_formed, "{}", src);
                    return Ok(());
                };
                let l = looked(json!({"groups": ["ops"]}), json!({"a": ["mcp"]}));
                let early: Vec<Kind> = if ssn_early { vec![Kind::SSN] } else { vec![] };
                let headers = caller(facts(&early, "POST", "/"), "standard", tier)
                    .with(Var::CallerSource, Value::Str(source))
                    .with_lookup(&l);
                let mut late = early.clone();
                if ssn_late && !ssn_early { late.push(Kind::SSN) }
                if email_late { late.push(Kind::EMAIL) }
                let set = late.iter().fold(KindSet::default(), |s, k| s.with(*k));
                let whole = call(headers, "tools/call", tool)
                    .with(Var::Protocol, Value::Str(protocol))
                    .with(Var::OpenaiStream, Value::Bool(stream))
                    .with_detected(set, late.len() + late_count);
                let value = c.eval(&whole);
                if let Some(so_far) = c.decided(&headers.body_pending()) {
                    prop_assert_eq!(so_far, value, "{}", src);
                }
                prop_assert_eq!(c.decided(&whole), Some(value));
            }
        }
    }
}
