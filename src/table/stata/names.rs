//! Stata variable names from column names, exactly as pandas `to_stata`
//! (format 118, `StataWriterUTF8`) makes them: invalid characters become
//! `_`, reserved words and names starting with a digit get a `_` prefix,
//! names are cut to 32 characters, and a changed name that clashes with
//! another column gets a `_N` prefix (N counting up over the file) before
//! being cut again.

/// Words Stata does not accept as variable names (pandas' `RESERVED_WORDS`).
const RESERVED: [&str; 60] = [
    "aggregate",
    "array",
    "boolean",
    "break",
    "byte",
    "case",
    "catch",
    "class",
    "colvector",
    "complex",
    "const",
    "continue",
    "default",
    "delegate",
    "delete",
    "do",
    "double",
    "else",
    "eltypedef",
    "end",
    "enum",
    "explicit",
    "export",
    "external",
    "float",
    "for",
    "friend",
    "function",
    "global",
    "goto",
    "if",
    "inline",
    "int",
    "local",
    "long",
    "NULL",
    "pragma",
    "protected",
    "quad",
    "rowvector",
    "short",
    "typedef",
    "typename",
    "virtual",
    "_all",
    "_N",
    "_skip",
    "_b",
    "_pi",
    "str#",
    "in",
    "_pred",
    "strL",
    "_coef",
    "_rc",
    "using",
    "_cons",
    "_se",
    "with",
    "_n",
];

/// The longest variable name, in characters.
pub const MAX_NAME_CHARS: usize = 32;

/// The Stata name of every column, in order. A name differs from the
/// column's only where Stata would not accept the column's.
pub fn stata_names(columns: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let mut clash_id = 0;
    for (j, original) in columns.iter().enumerate() {
        let mut name = valid_characters(original);
        if RESERVED.contains(&name.as_str()) {
            name.insert(0, '_');
        }
        if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
            name.insert(0, '_');
        }
        name = cut(&name);
        if name != *original {
            // pandas compares against the names as they stand: earlier
            // columns renamed, this and later columns as given.
            while names.contains(&name) {
                name = cut(&format!("_{clash_id}{name}"));
                clash_id += 1;
            }
        }
        names[j] = name;
    }
    names
}

/// Replaces the characters Stata 14+ does not allow in names with `_`: ASCII
/// other than letters, digits and `_`, U+0080 to U+00BF, `×` and `÷`.
fn valid_characters(name: &str) -> String {
    name.chars()
        .map(|c| {
            let bad = (c.is_ascii() && !(c.is_ascii_alphanumeric() || c == '_'))
                || ('\u{80}'..'\u{c0}').contains(&c)
                || c == '×'
                || c == '÷';
            if bad { '_' } else { c }
        })
        .collect()
}

/// The first [`MAX_NAME_CHARS`] characters.
fn cut(name: &str) -> String {
    name.chars().take(MAX_NAME_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renamed(columns: &[&str]) -> Vec<String> {
        stata_names(columns)
    }

    #[test]
    fn valid_names_are_kept() {
        let columns = ["patient_id", "age", "Sex", "_x", "é_name"];
        assert_eq!(renamed(&columns), columns);
    }

    #[test]
    fn invalid_characters_reserved_words_and_digits_get_underscores() {
        assert_eq!(
            renamed(&["a b", "if", "1st", "x-y.z", "°C", "a×b", "_all", "strL"]),
            [
                "a_b", "_if", "_1st", "x_y_z", "_C", "_0a_b", "__all", "_strL"
            ]
        );
    }

    #[test]
    fn long_names_that_clash_get_numbered_prefixes_as_in_flucats() {
        let columns = [
            "flucats_other_covid_antigen_code",
            "flucats_other_covid_antigen_code_date",
            "a_very_long_name_that_goes_on_and_on_1",
            "a_very_long_name_that_goes_on_and_on_2",
        ];
        assert_eq!(
            renamed(&columns),
            [
                "flucats_other_covid_antigen_code",
                "_0flucats_other_covid_antigen_co",
                "a_very_long_name_that_goes_on_an",
                "_1a_very_long_name_that_goes_on_",
            ]
        );
    }

    #[test]
    fn a_rename_never_takes_a_later_columns_name() {
        assert_eq!(renamed(&["a b", "a_b"]), ["_0a_b", "a_b"]);
        assert_eq!(renamed(&["", "_"]), ["_0_", "_"]);
    }
}
