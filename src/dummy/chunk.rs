//! Drawing one chunk of rows, column by column.
//!
//! A chunk's values depend only on (seed, file, chunk index, column name),
//! so chunks can be drawn in any order, on any thread, with the same result.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, StandardNormal};

use super::ids::Ids;
use super::plan::{DatePlan, Draw, DrawPlan, RowsMissing};
use super::random::{Stream, choose_exactly, share, stream};

/// Marks an empty date.
pub const NO_DATE: i32 = i32::MIN;

/// Marks an empty label.
pub const NO_LABEL: u32 = u32::MAX;

/// One column's values in a chunk.
#[derive(Debug)]
pub enum Cells {
    /// Patient ids and ints (missing: 0).
    Ints(Vec<i64>),
    /// Flags (missing: false).
    Flags(Vec<bool>),
    /// Floats (missing: 0.0).
    Floats(Vec<f64>),
    /// Days since 1970 ([`NO_DATE`] when empty).
    Dates(Vec<i32>),
    /// Indices into the column's labels ([`NO_LABEL`] when empty).
    Labels(Vec<u32>),
    /// A fixed value: nothing stored.
    Fixed,
}

impl Cells {
    /// Whether row `i` is empty (only dates and labels can be).
    fn is_empty(&self, i: usize) -> bool {
        match self {
            Cells::Dates(d) => d[i] == NO_DATE,
            Cells::Labels(l) => l[i] == NO_LABEL,
            _ => false,
        }
    }
}

/// Rows `start..start + len` of one file.
#[derive(Debug)]
pub struct Chunk {
    /// The first row's number in the file.
    pub start: u64,
    /// Rows in this chunk.
    pub len: usize,
    /// The columns, in output order.
    pub columns: Vec<Cells>,
    /// Where ints and floats are null rather than zero (ehrQL's
    /// conventions): each such column's missing rows.
    pub nulls: Vec<Option<Vec<bool>>>,
}

/// What keys a file's random streams.
#[derive(Debug, Clone, Copy)]
pub struct FileKey {
    /// The user's seed.
    pub seed: u64,
    /// The file (study and index date).
    pub file: u64,
}

/// Draws chunk number `index` (rows `start..start + len`) of a file.
pub fn draw(plan: &DrawPlan, ids: &Ids, key: FileKey, index: u64, start: u64, len: usize) -> Chunk {
    let mut columns: Vec<Option<Cells>> = (0..plan.columns.len()).map(|_| None).collect();
    let mut missing = vec![false; len];
    let mut nulls: Vec<Option<Vec<bool>>> = (0..plan.columns.len()).map(|_| None).collect();
    for &c in &plan.draw_order {
        let column = &plan.columns[c];
        let mut rng = stream(&[key.seed, key.file, index, column.key]);
        match column.missing {
            RowsMissing::Never => missing.fill(false),
            RowsMissing::Exactly(count) => {
                let here = share(count, plan.population, start, start + len as u64);
                choose_exactly(&mut rng, here, &mut missing);
            }
            RowsMissing::Follows(source) => {
                let source = columns[source].as_ref().expect("sources are drawn first");
                for (i, m) in missing.iter_mut().enumerate() {
                    *m = source.is_empty(i);
                }
            }
        }
        columns[c] = Some(cells(&column.draw, &missing, &mut rng, ids, start));
        let numeric = matches!(
            columns[c],
            Some(Cells::Ints(_) | Cells::Floats(_)) if !matches!(column.draw, Draw::PatientId)
        );
        if numeric && plan.conventions.nulls() {
            nulls[c] = Some(missing.clone());
        }
    }
    Chunk {
        start,
        len,
        columns: columns
            .into_iter()
            .map(|c| c.expect("every column drawn"))
            .collect(),
        nulls,
    }
}

/// Fills present rows with `value`, missing rows with `empty`.
fn fill<T: Copy>(
    missing: &[bool],
    empty: T,
    rng: &mut Stream,
    mut value: impl FnMut(&mut Stream) -> T,
) -> Vec<T> {
    missing
        .iter()
        .map(|&m| if m { empty } else { value(rng) })
        .collect()
}

fn cells(draw: &Draw, missing: &[bool], rng: &mut Stream, ids: &Ids, start: u64) -> Cells {
    match draw {
        Draw::PatientId => Cells::Ints(
            (0..missing.len() as u64)
                .map(|i| ids.id(start + i) as i64)
                .collect(),
        ),
        Draw::Flag => Cells::Flags(missing.iter().map(|&m| !m).collect()),
        Draw::IntNormal { mean, stddev } => Cells::Ints(fill(missing, 0, rng, |r| {
            let z: f64 = StandardNormal.sample(r);
            (mean + stddev * z) as i64
        })),
        Draw::IntPoisson(poisson) => Cells::Ints(fill(missing, 0, rng, |r| {
            poisson.as_ref().map_or(0, |p| p.sample(r) as i64)
        })),
        Draw::Ages(ages) => Cells::Ints(fill(missing, 0, rng, |r| ages.sample(r) as i64)),
        Draw::Float { mean, stddev } => Cells::Floats(fill(missing, 0.0, rng, |r| {
            let z: f64 = StandardNormal.sample(r);
            mean + stddev * z
        })),
        Draw::Date(plan) => Cells::Dates(fill(missing, NO_DATE, rng, |r| date(plan, r))),
        Draw::Text { choose, labels, .. } => Cells::Labels(fill(missing, NO_LABEL, rng, |r| {
            let i = choose.sample(r);
            if labels[i].is_some() {
                i as u32
            } else {
                NO_LABEL
            }
        })),
        Draw::Fixed(_) => Cells::Fixed,
    }
}

/// One date as upstream draws it: `latest` minus a whole number of days,
/// uniform in `[0, span)` (so after `earliest`), or for
/// `exponential_increase` exponential with mean `span / 10`, redrawn when
/// over `span`. Dates outside `keep_between` come out empty.
fn date(plan: &DatePlan, rng: &mut Stream) -> i32 {
    let span = f64::from(plan.span);
    let back = if plan.exponential {
        loop {
            let e: f64 = Exp1.sample(rng);
            let days = (e * 0.1 * span) as i32;
            if days <= plan.span {
                break days;
            }
        }
    } else {
        (rng.random::<f64>() * span) as i32
    };
    let day = plan.latest.0 - back;
    let (low, high) = plan.keep_between;
    if low.is_some_and(|l| day < l.0) || high.is_some_and(|h| day > h.0) {
        NO_DATE
    } else {
        day
    }
}
