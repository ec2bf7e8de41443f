//! Rules for what users type in that no schema can say: emails, passwords, public names.
//! (Phone numbers and zip codes are patterns in the request schemas and the SQL `CHECK`s.)

diesel::define_sql_function! {
    /// How a member's name shows to others (on community content, reviews and in chat): the
    /// first character, then `**`, so neither the name nor its length is given away. The
    /// database's function (migration 000043), so every query shows names alike.
    fn public_name(name: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Lower-cased and trimmed, so `Bori@Example.com` and `bori@example.com` are one account.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 128;

/// OWASP-style: long enough, not absurdly long, and not a single kind of character.
pub fn check_password(password: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err("must be at least 8 characters");
    }
    if length > PASSWORD_MAX {
        return Err("must be at most 128 characters");
    }
    let has_letter = password.chars().any(char::is_alphabetic);
    let has_other = password.chars().any(|c| !c.is_alphabetic());
    if !(has_letter && has_other) {
        return Err("must mix letters with digits or symbols");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_length_and_variety() {
        assert!(check_password("correct horse 1").is_ok());
        assert_eq!(
            check_password("short1"),
            Err("must be at least 8 characters")
        );
        assert_eq!(
            check_password("onlyletters"),
            Err("must mix letters with digits or symbols")
        );
        assert_eq!(
            check_password("1234567890"),
            Err("must mix letters with digits or symbols")
        );
        assert!(check_password(&"a1".repeat(65)).is_err());
    }

    #[test]
    fn emails_are_case_insensitive() {
        assert_eq!(normalize_email("  Bori@Example.COM "), "bori@example.com");
    }
}
