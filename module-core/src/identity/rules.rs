//! Rules for what users type in that no schema can say: emails, passwords, public names.
//! (Phone numbers and zip codes are patterns in the request schemas and the SQL `CHECK`s.)

diesel::define_sql_function! {
    /// How a member shows to others (on community content, reviews and in chat): by their
    /// nickname, never the name they signed up with; a withdrawn member, who has none, by the
    /// placeholder their name became. The database's function (migration 000048), so every query
    /// shows members alike: call it as `public_name(users::nickname, users::name)`.
    fn public_name(
        nickname: diesel::sql_types::Nullable<diesel::sql_types::Text>,
        name: diesel::sql_types::Text,
    ) -> diesel::sql_types::Text;
}

/// Nicknames are 2 to 20 letters (Latin or Hangul), digits or underscores.
pub const NICKNAME_PATTERN: &str = "^[0-9A-Za-z가-힣_]{2,20}$";
/// How often a nickname may change.
pub const NICKNAME_CHANGE_EVERY: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// A nickname a member may choose: the pattern, and none of the generated ones (`회원<digits>`,
/// what members who chose none are called), so that a choice never takes a future member's.
pub fn check_nickname(nickname: &str) -> Result<(), &'static str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || ('가'..='힣').contains(&c);
    let length = nickname.chars().count();
    if !(2..=20).contains(&length) || !nickname.chars().all(allowed) {
        return Err("must be 2 to 20 letters, digits or underscores");
    }
    if let Some(digits) = nickname.strip_prefix("회원")
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
    {
        return Err("is kept for members who chose no nickname");
    }
    Ok(())
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
    fn nicknames_are_short_words_and_never_a_generated_one() {
        for good in [
            "보리",
            "bori_2026",
            "Bo",
            "가나다라마바사아자차카타파하가나다라마바",
        ] {
            assert_eq!(check_nickname(good), Ok(()), "{good}");
        }
        for bad in [
            "b",
            "보리 엄마",
            "bori!",
            "회원12",
            "x".repeat(21).as_str(),
            "\u{0}ab",
        ] {
            assert!(check_nickname(bad).is_err(), "{bad}");
        }
        assert_eq!(check_nickname("회원님"), Ok(()));
    }

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
