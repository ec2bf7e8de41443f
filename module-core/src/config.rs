//! Reading settings from environment variables. Every error names the variable, so a bad value
//! stops start-up with one clear line.

use std::fmt::Display;
use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not valid unicode")]
    NotUnicode { name: &'static str },
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("{name} is required: {reason}")]
    Missing {
        name: &'static str,
        reason: &'static str,
    },
}

/// `PETORY_DEV_MODE=1`: a developer's machine, where safe defaults for secrets are acceptable
/// (`scripts/dev` sets it). Never set it in production.
pub fn dev_mode() -> Result<bool, ConfigError> {
    Ok(matches!(
        var("PETORY_DEV_MODE")?.as_deref().map(str::trim),
        Some("1" | "true" | "yes")
    ))
}

/// The variable's value, or `None` when it is unset or empty.
pub fn var(name: &'static str) -> Result<Option<String>, ConfigError> {
    match std::env::var(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => Err(ConfigError::NotUnicode { name }),
    }
}

pub fn var_or(name: &'static str, default: &str) -> Result<String, ConfigError> {
    Ok(var(name)?.unwrap_or_else(|| default.to_owned()))
}

/// A setting whose only default is a development machine's (a sandbox's key, a local URL): the
/// variable's value; unset, `dev_value` under `PETORY_DEV_MODE`, and otherwise a refusal to
/// start that says why, as a missing JWT secret is refused.
pub fn var_or_dev(
    name: &'static str,
    dev_value: &str,
    reason: &'static str,
) -> Result<String, ConfigError> {
    match var(name)? {
        Some(value) => Ok(value),
        None if dev_mode()? => Ok(dev_value.to_owned()),
        None => Err(ConfigError::Missing { name, reason }),
    }
}

/// Parses the variable with `FromStr`, falling back to `default` when unset.
pub fn parsed_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    match var(name)? {
        None => Ok(default),
        Some(value) => parse(name, &value),
    }
}

pub fn parse<T>(name: &'static str, value: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: Display,
{
    value
        .trim()
        .parse::<T>()
        .map_err(|error| ConfigError::Invalid {
            name,
            value: value.to_owned(),
            reason: error.to_string(),
        })
}

/// Fails with the variable's name unless `ok` holds for its value.
pub fn ensure<T: Display>(
    name: &'static str,
    value: T,
    ok: bool,
    reason: &str,
) -> Result<T, ConfigError> {
    if ok {
        Ok(value)
    } else {
        Err(ConfigError::Invalid {
            name,
            value: value.to_string(),
            reason: reason.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_errors_name_the_variable() {
        let error = parse::<u32>("PETORY_DB_POOL_SIZE", "ten").unwrap_err();
        assert_eq!(
            error.to_string(),
            "PETORY_DB_POOL_SIZE=\"ten\" is invalid: invalid digit found in string"
        );
    }

    #[test]
    fn ensure_rejects_with_the_reason() {
        let error = ensure("PETORY_DB_POOL_SIZE", 0, false, "must be at least 1").unwrap_err();
        assert_eq!(
            error.to_string(),
            "PETORY_DB_POOL_SIZE=\"0\" is invalid: must be at least 1"
        );
    }
}
