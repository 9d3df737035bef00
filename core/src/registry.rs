//! Closed sets, each declared once. A closed set (event types, decisions, policy results, local
//! replies, ...) is a list of rows; everything else (the enum, its list of members, its names,
//! metric labels, docs tables) is derived from that list or checked against it by a test, so
//! adding a member is one row and forgetting one of its uses is a compile error or a failing
//! test, never a silent fallback.

/// Declares a closed set: an enum with one variant per row, `ALL` (every member, in row
/// order), `index` (its position in `ALL`), and `spec`, the row's value: a name, or a struct
/// of attributes.
///
/// ```text
/// registry! {
///     /// Line types.
///     pub enum EventType: &'static str {
///         Request => "request",
///         Response => "response",
///     }
/// }
/// ```
macro_rules! registry {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident: $spec:ty {
            $( $(#[$vmeta:meta])* $variant:ident => $value:expr, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every member, in declaration order (`ALL[m.index()] == m`).
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The member's position in [`Self::ALL`].
            pub const fn index(self) -> usize {
                self as usize
            }

            /// The member's row.
            pub const fn spec(self) -> &'static $spec {
                match self {
                    $( $name::$variant => &$value, )+
                }
            }
        }
    };
}

pub(crate) use registry;

/// For the tests that hold a docs table to the registry it documents.
#[cfg(test)]
pub(crate) mod docs {
    /// Rows of a markdown table (`| a | b |`) that follows the line `after` in `text`, as trimmed
    /// cells; the header and separator rows are skipped. For tests that hold a docs table to the
    /// registry it documents.
    pub fn markdown_table(text: &str, after: &str) -> Vec<Vec<String>> {
        let Some(start) = text.find(after) else {
            return Vec::new();
        };
        text.get(start + after.len()..)
            .unwrap_or_default()
            .lines()
            .skip_while(|l| !l.trim_start().starts_with('|'))
            .take_while(|l| l.trim_start().starts_with('|'))
            .skip(2)
            .map(|l| {
                let inner = l.trim().trim_start_matches('|').trim_end_matches('|');
                split_cells(inner)
            })
            .collect()
    }

    /// Splits a table row at `|`, except inside backticks (`a \| b` cells are not used here).
    fn split_cells(row: &str) -> Vec<String> {
        let mut cells = Vec::new();
        let mut cell = String::new();
        let mut code = false;
        for c in row.chars() {
            match c {
                '`' => {
                    code = !code;
                    cell.push(c);
                }
                '|' if !code => {
                    cells.push(cell.trim().to_string());
                    cell.clear();
                }
                _ => cell.push(c),
            }
        }
        cells.push(cell.trim().to_string());
        cells
    }

    /// Fails, unless the docs table `rows` is `want`, with the rows to paste into `file` and the
    /// first that differs.
    pub fn assert_table(file: &str, table: &str, rows: &[Vec<String>], want: &[Vec<String>]) {
        if rows == want {
            return;
        }
        let markdown: Vec<String> = want
            .iter()
            .map(|cells| format!("| {} |", cells.join(" | ")))
            .collect();
        let first = rows
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(rows.len().min(want.len()));
        let found = rows
            .get(first)
            .map_or("(no row)".to_string(), |r| format!("| {} |", r.join(" | ")));
        let wanted = markdown
            .get(first)
            .map_or("(no row)", String::as_str)
            .to_string();
        panic!(
            "{file}: {table} disagrees with its registry at row {}:\n  docs: {found}\n  want: {wanted}\nThe table's rows should read:\n{}",
            first + 1,
            markdown.join("\n")
        );
    }

    /// A docs file of the repository (`docs/events.md`), for the tests that hold docs to
    /// registries. Native only: the Wasm test run has no file system.
    #[cfg(not(target_family = "wasm"))]
    pub fn doc(name: &str) -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::docs::markdown_table;

    #[test]
    fn tables_are_read_cell_by_cell() {
        let text = "# x\n\n| a | b |\n|---|---|\n| `x|y` | two |\n| 3 | four |\n\nafter\n| no |";
        assert_eq!(
            markdown_table(text, "# x"),
            vec![vec!["`x|y`", "two"], vec!["3", "four"]]
        );
        assert!(markdown_table(text, "# missing").is_empty());
    }
}
