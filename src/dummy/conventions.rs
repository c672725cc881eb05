//! Whose conventions a dummy file follows: the same drawn values, written
//! as cohortextractor writes them or as ehrQL does.

/// How drawn values are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Conventions {
    /// cohortextractor's (pandas `to_csv` of its frame): flags `1`/`0`,
    /// missing ints `0` and floats `0.0`, dates at their format's precision,
    /// `\n` line ends; in Arrow files ints `int64`, flags `bool`, floats
    /// `double`, dates `timestamp[ns]`, categories and codes dictionaries
    /// with `int32` keys.
    #[default]
    Cohortextractor,
    /// ehrQL's (`ehrql generate-dataset`): booleans `T`/`F`, missing ints
    /// and floats empty (null), dates `YYYY-MM-DD`, `\r\n` line ends (Python's
    /// `csv` module); in Arrow files (zstd-compressed) ints `int64`, booleans
    /// `bool`, floats `double`, dates `date32`, categories ordered
    /// dictionaries with the smallest signed keys, codes and strings `utf8`.
    Ehrql,
}

impl Conventions {
    /// Whether missing ints and floats are nulls (ehrQL) rather than zeros.
    pub fn nulls(self) -> bool {
        self == Conventions::Ehrql
    }

    /// A flag's text.
    pub fn flag(self, value: bool) -> &'static [u8] {
        match (self, value) {
            (Conventions::Cohortextractor, true) => b"1",
            (Conventions::Cohortextractor, false) => b"0",
            (Conventions::Ehrql, true) => b"T",
            (Conventions::Ehrql, false) => b"F",
        }
    }

    /// Whether lines end `\r\n`.
    pub fn crlf(self) -> bool {
        self == Conventions::Ehrql
    }
}
