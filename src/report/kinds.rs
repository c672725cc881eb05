//! The kind a column is reported as under the current and midpoint-6
//! rules. pandas' type, and a kind read from it, change with a single
//! value: one `unknown` among dates makes text, one `2` among 0s and 1s a
//! category, one `x` among numbers an object column. A report that changed
//! kind so would say that someone holds such a value. Here a kind is chosen
//! when at most [`STRAYS`] values fall outside it; those stray values are
//! counted with the missing ones ("missing or other"), so that the kind,
//! and every row the kind brings, reads the same whether none or a few
//! patients hold them. Every decision compares a total of values with the
//! threshold, never a single value's count with zero.

use serde::Serialize;

use super::disclosure::CURRENT_THRESHOLD;
use super::dtype::Dtype;
use super::sketch::ValueKey;

/// What a column holds, which decides how the report summarises it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `patient_id`: only its missing values are reported.
    Identifier,
    /// Every value is missing.
    Empty,
    /// Fewer than 8 values (perhaps none): under the current and midpoint-6
    /// rules such a column is not summarised, so that a column with no
    /// values looks like one with a few.
    FewValues,
    /// Two values: 0/1 or False/True.
    Boolean,
    /// Dates (`YYYY-MM-DD` or `YYYY-MM` text, or a date type).
    Date,
    /// Codes and categories: text, or whole numbers that name things.
    Category,
    /// Measurements and other numbers.
    Numeric,
}

/// The most values that may fall outside a column's kind.
pub const STRAYS: u64 = CURRENT_THRESHOLD;

/// Whole-number columns with at most this many values held by more than
/// the tolerance (and hardly any others) are categories.
const FEW_COMMON: usize = 20;

/// Whole numbers of at least six digits are codes (SNOMED CT identifiers
/// are six to eighteen digits long).
const CODE_MINIMUM: f64 = 100_000.0;

/// The labels of a boolean column's two values.
pub type Domain = [&'static str; 2];

/// `True`/`False` text, or a bool type.
pub const TRUE_FALSE: Domain = ["False", "True"];

/// The numbers 0 and 1.
pub const ZERO_ONE: Domain = ["0", "1"];

/// `T`/`F` text, as ehrQL writes booleans to CSV.
pub const T_F: Domain = ["F", "T"];

/// How many of a column's present values fall in each class.
#[derive(Clone, Debug, Default)]
pub struct Classes {
    /// Values that are not missing.
    pub present: u64,
    /// Numbers.
    pub numbers: u64,
    /// Numbers with a fraction.
    pub fractional: u64,
    /// `True` and `False`.
    pub bools: u64,
    /// `T` and `F` text.
    pub t_f: u64,
    /// Dates (typed, or text a date).
    pub dates: u64,
    /// Each distinct number's count, where there are few enough to count.
    pub exact: Option<Vec<(ValueKey, u64)>>,
}

/// The kind a column is reported as and how many of its values fall
/// outside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fit {
    /// The kind.
    pub kind: Kind,
    /// Present values that are not of the kind, counted as missing.
    pub strays: u64,
    /// A boolean's two values.
    pub domain: Option<Domain>,
}

impl Fit {
    fn whole(kind: Kind) -> Fit {
        Fit {
            kind,
            strays: 0,
            domain: None,
        }
    }
}

/// The kind of the column `name` of type `dtype` whose values fall in
/// `classes`: dates, then booleans (`True`/`False`, ehrQL's `T`/`F`, 0/1),
/// then numbers, each when all but at most [`STRAYS`] values are of it;
/// else a category, which lists any value.
pub fn decide(name: &str, dtype: &Dtype, classes: &Classes) -> Fit {
    let present = classes.present;
    if name == "patient_id" {
        return Fit::whole(Kind::Identifier);
    }
    if present <= STRAYS {
        return Fit::whole(Kind::FewValues);
    }
    let fit = |kind: Kind, domain: Option<Domain>, fitting: u64| {
        let strays = present - fitting;
        (strays <= STRAYS).then_some(Fit {
            kind,
            strays,
            domain,
        })
    };
    let zeros_and_ones = classes.exact.as_ref().map_or(0, |exact| {
        exact
            .iter()
            .filter(|(key, _)| matches!(key, ValueKey::Int(0 | 1)))
            .map(|(_, count)| count)
            .sum()
    });
    let dates = if dtype.is_datetime() {
        present
    } else {
        classes.dates
    };
    let bools = if dtype.name == "bool" {
        present
    } else {
        classes.bools
    };
    fit(Kind::Date, None, dates)
        .or_else(|| fit(Kind::Boolean, Some(TRUE_FALSE), bools))
        .or_else(|| fit(Kind::Boolean, Some(T_F), classes.t_f))
        .or_else(|| fit(Kind::Boolean, Some(ZERO_ONE), zeros_and_ones))
        .or_else(|| {
            let numbers = fit(Kind::Numeric, None, classes.numbers)?;
            Some(if codes(name, classes, STRAYS) {
                Fit::whole(Kind::Category)
            } else {
                numbers
            })
        })
        .unwrap_or(Fit::whole(Kind::Category))
}

/// Whether whole numbers name things: the column is called `…code`, or its
/// values are at least six digits long, or a few values held by more than
/// `tolerance` patients account for all of it; in each case but for
/// `tolerance` values at most. [`decide`] tolerates [`STRAYS`]; pandas'
/// kind (`--sdc legacy`) tolerates none: at most 20 distinct values, or
/// all of six digits or more.
pub fn codes(name: &str, classes: &Classes, tolerance: u64) -> bool {
    if classes.fractional > tolerance {
        return false;
    }
    if name.to_ascii_lowercase().ends_with("code") {
        return true;
    }
    let Some(exact) = &classes.exact else {
        return false;
    };
    let total = |keep: &dyn Fn(&(ValueKey, u64)) -> bool| -> u64 {
        exact.iter().filter(|e| keep(e)).map(|(_, c)| c).sum()
    };
    let common = exact.iter().filter(|(_, c)| *c > tolerance).count();
    let rare = total(&|(_, c)| *c <= tolerance);
    let short = total(&|(k, _)| k.value().abs() < CODE_MINIMUM);
    (common <= FEW_COMMON && rare <= tolerance) || short <= tolerance
}

#[cfg(test)]
mod tests {
    use super::*;

    fn classes(present: u64) -> Classes {
        Classes {
            present,
            ..Classes::default()
        }
    }

    fn int(v: i128, n: u64) -> (ValueKey, u64) {
        (ValueKey::Int(v), n)
    }

    #[test]
    fn a_few_strays_leave_the_kind() {
        let object = Dtype::new("object", 8);
        let dates = |dates| {
            decide(
                "d",
                &object,
                &Classes {
                    dates,
                    ..classes(100)
                },
            )
        };
        assert_eq!(dates(93).kind, Kind::Date);
        assert_eq!(dates(93).strays, 7);
        assert_eq!(dates(92).kind, Kind::Category);
        let flags = |ones, others| Classes {
            numbers: 100,
            exact: Some(vec![
                int(0, 100 - ones - others),
                int(1, ones),
                int(2, others),
            ]),
            ..classes(100)
        };
        let flag = decide("flag", &object, &flags(40, 3));
        assert_eq!(
            (flag.kind, flag.strays, flag.domain),
            (Kind::Boolean, 3, Some(ZERO_ONE))
        );
        assert_eq!(decide("flag", &object, &flags(40, 0)).strays, 0);
        assert_eq!(decide("flag", &object, &flags(40, 8)).kind, Kind::Category);
        let t_f = |t_f| Classes {
            t_f,
            ..classes(100)
        };
        let ehrql = decide("has_asthma", &object, &t_f(94));
        assert_eq!(
            (ehrql.kind, ehrql.strays, ehrql.domain),
            (Kind::Boolean, 6, Some(T_F))
        );
        assert_eq!(decide("has_asthma", &object, &t_f(92)).kind, Kind::Category);
        let bmi = Classes {
            numbers: 95,
            fractional: 90,
            ..classes(100)
        };
        let fit = decide("bmi", &object, &bmi);
        assert_eq!((fit.kind, fit.strays), (Kind::Numeric, 5));
    }

    #[test]
    fn codes_are_told_by_their_common_values() {
        let int64 = Dtype::new("int64", 8);
        let column = |exact: Vec<(ValueKey, u64)>| Classes {
            numbers: exact.iter().map(|(_, c)| c).sum(),
            exact: Some(exact),
            ..classes(0)
        };
        let kind = |name: &str, mut c: Classes| {
            c.present = c.numbers;
            decide(name, &int64, &c).kind
        };
        // Five ethnicity groups and a few odd values: a category.
        let mut eth: Vec<_> = (1..=5).map(|v| int(v, 50)).collect();
        eth.extend([int(17, 3), int(99, 4)]);
        assert_eq!(kind("eth", column(eth.clone())), Kind::Category);
        eth.push(int(42, 1));
        assert_eq!(kind("eth", column(eth)), Kind::Numeric);
        // Ages of a small cohort: each held by few patients.
        let ages: Vec<_> = (20..80).map(|v| int(v, 3)).collect();
        assert_eq!(kind("age", column(ages)), Kind::Numeric);
        // SNOMED CT codes with one short value.
        let mut snomed: Vec<_> = (0..40).map(|i| int(161_925_006 + i, 2)).collect();
        snomed.push(int(5, 1));
        assert_eq!(kind("snomed", column(snomed)), Kind::Category);
        assert_eq!(kind("x_code", column(vec![int(3, 40)])), Kind::Category);
    }

    #[test]
    fn few_values_and_identifiers_have_no_strays() {
        let object = Dtype::new("object", 8);
        assert_eq!(decide("x", &object, &classes(7)).kind, Kind::FewValues);
        assert_eq!(
            decide("patient_id", &object, &classes(3)).kind,
            Kind::Identifier
        );
        let bool = Dtype::new("bool", 1);
        let fit = decide("ever", &bool, &classes(30));
        assert_eq!((fit.kind, fit.domain), (Kind::Boolean, Some(TRUE_FALSE)));
    }
}
