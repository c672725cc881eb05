//! pandas' dtype of a column, as the report states it under `--sdc legacy`.

/// pandas' dtype of a column, and its shallow memory use per row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dtype {
    /// The dtype's name as pandas prints it (`int64`, `object`, ...).
    pub name: String,
    /// Bytes per row that `DataFrame.memory_usage()` counts.
    pub bytes_per_row: u64,
}

impl Dtype {
    /// A dtype by name and width.
    pub fn new(name: &str, bytes_per_row: u64) -> Dtype {
        Dtype {
            name: name.to_string(),
            bytes_per_row,
        }
    }

    pub(super) fn is_numeric(&self) -> bool {
        self.name.starts_with("int")
            || self.name.starts_with("uint")
            || self.name.starts_with("float")
    }

    pub(super) fn is_datetime(&self) -> bool {
        self.name.starts_with("datetime64")
    }
}
