//! Brazilian CPF numbers (Cadastro de Pessoas Físicas): eleven digits, written `123.456.789-09`
//! or as one run, the last two modulus 11 check digits (weights 10 down to 2 on the first nine,
//! then 11 down to 2 on the first ten; a remainder under 2 gives 0). Numbers of one repeated
//! digit (`111.111.111-11`) pass the check and are never issued. Source: Receita Federal do
//! Brasil, "CPF" (<https://www.gov.br/receitafederal/pt-br/assuntos/meu-cpf>) and its check
//! digit rule.
//!
//! The written form `ddd.ddd.ddd-dd` is the CPF's own and two check digits let one number in a
//! hundred through: it stands alone. One run (`12345678909`) and `123456789-09` need a cue
//! (`cpf`, `cadastro de pessoas físicas`).

use super::super::catalogue::{BuiltIn, DigitWord};
use super::super::text::Sep;
use super::{groups, has_cue, standalone, weighted};

pub(in crate::detect) struct BrCpf;

impl BuiltIn for BrCpf {
    const NAME: &'static str = "br_cpf";
    const FINDS: &'static str = "Brazilian CPF numbers: eleven digits with the two CPF modulus 11 check digits; `123.456.789-09` on its own, `123456789-09` and one run only next to a cue (`cpf`, `cadastro de pessoas`) in the same field. Not inside a longer number; all-equal digits (`111.111.111-11`) are not numbers.";
    const DIGIT_WORD: bool = true;
    /// Three digits and a dot, or nine and a dash, or a run of exactly eleven.
    #[inline(always)]
    fn at_digit_word(w: &DigitWord) -> Option<usize> {
        let shape =
            ((w.digits == 3 || w.digits == 9) && w.sep_next) || (w.digits == 11 && w.len() == 11);
        shape.then(|| match_at(w.t, w.start, w.digits)).flatten()
    }
}

pub(super) const CUES: &[&str] = &["cpf", "cadastro de pessoa", "cadastro de pessoas"];

#[inline(never)]
pub(super) fn match_at(t: &[u8], start: usize, digits: usize) -> Option<usize> {
    let (r, formatted) = match digits {
        3 => {
            let r = groups(t, start, &[3, 3, 3, 2])?;
            let dots = r.joints.get(..3)?;
            (dots == [Some(Sep::Dot), Some(Sep::Dot), Some(Sep::Dash)]).then_some((r, true))?
        }
        9 => {
            let r = groups(t, start, &[9, 2])?;
            (r.first_joint() == Some(Sep::Dash)).then_some((r, false))?
        }
        _ => (groups(t, start, &[11])?, false),
    };
    (valid(r.digits())
        && !r.all_same()
        && standalone(t, start, &r)
        && (formatted || has_cue(t, start, r.end, CUES)))
    .then_some(r.end)
}

pub(super) fn valid(d: &[u8]) -> bool {
    let check = |n: usize| {
        let w: [u32; 10] = [11, 10, 9, 8, 7, 6, 5, 4, 3, 2];
        let weights = w.get(10 - n..).unwrap_or_default();
        let want = (weighted(d.get(..n).unwrap_or_default(), weights) * 10 % 11) % 10;
        d.get(n).is_some_and(|&c| u32::from(c) == want)
    };
    d.len() == 11 && check(9) && check(10)
}

#[cfg(test)]
mod tests {
    use super::super::tests::first;
    use super::*;

    fn cpf(text: &str) -> Option<&str> {
        first(text, |t, s| {
            let n = t[s..].iter().take_while(|b| b.is_ascii_digit()).count();
            match_at(t, s, n)
        })
    }

    #[test]
    fn cpf_numbers() {
        assert_eq!(cpf("123.456.789-09"), Some("123.456.789-09"));
        assert_eq!(
            cpf(r#"{"documento": "529.982.247-25"}"#),
            Some("529.982.247-25")
        );
        assert_eq!(cpf("CPF 52998224725"), Some("52998224725"));
        assert_eq!(cpf(r#"{"cpf": "529982247-25"}"#), Some("529982247-25"));
        assert_eq!(
            cpf("Cadastro de Pessoas Físicas: 52998224725"),
            Some("52998224725")
        );
    }

    #[test]
    fn not_cpf_numbers() {
        assert_eq!(cpf("123.456.789-08"), None, "check");
        assert_eq!(cpf("111.111.111-11"), None, "one digit repeated");
        assert_eq!(cpf("000.000.000-00"), None, "one digit repeated");
        assert_eq!(cpf("52998224725"), None, "a run needs a cue");
        assert_eq!(cpf("123.456.789.09"), None, "dots only");
        assert_eq!(cpf("123-456-789-09"), None, "dashes only");
        assert_eq!(cpf("1.123.456.789-09"), None, "longer chain");
        assert_eq!(cpf("123.456.789-09-1"), None, "longer chain");
    }
}
