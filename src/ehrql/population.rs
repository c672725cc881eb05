//! The dummy population a dataset definition configures, where it says so
//! with a literal: `dataset.configure_dummy_data(population_size=1000)`.

/// N of the first `configure_dummy_data(... population_size=N ...)` call
/// when N is an integer literal (`1000`, `1_000`); `None` otherwise (a
/// variable, an expression: only ehrQL could evaluate it).
pub fn configured(definition: &str) -> Option<u64> {
    let code: String = definition
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let call = code.find("configure_dummy_data(")?;
    let rest = &code[call + "configure_dummy_data(".len()..];
    let arguments = &rest[..rest.find(')')?];
    let (_, value) = arguments
        .split(',')
        .filter_map(|a| a.split_once('='))
        .find(|(key, _)| key.trim() == "population_size")?;
    let value = value.trim();
    let well_formed = !value.is_empty()
        && value.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !value.starts_with('_')
        && !value.ends_with('_')
        && !value.contains("__");
    well_formed
        .then(|| value.replace('_', "").parse().ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::configured;

    #[test]
    fn only_literal_populations_are_read() {
        let c = |s: &str| configured(s);
        assert_eq!(
            c("dataset.configure_dummy_data(population_size=1000)"),
            Some(1000)
        );
        assert_eq!(
            c("d.configure_dummy_data(\n    population_size = 1_000,\n    timeout=5,\n)"),
            Some(1000)
        );
        assert_eq!(
            c("d.configure_dummy_data(timeout=5, population_size=20)"),
            Some(20)
        );
        assert_eq!(c("d.configure_dummy_data(population_size=N)"), None);
        assert_eq!(c("d.configure_dummy_data(population_size=10 * 2)"), None);
        assert_eq!(c("# d.configure_dummy_data(population_size=5)\n"), None);
        assert_eq!(c("d.configure_dummy_data(population_size=1__0)"), None);
        assert_eq!(c("dataset = create_dataset()"), None);
    }
}
