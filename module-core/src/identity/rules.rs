//! Rules for what users type in: emails, passwords, phone numbers.

/// How a user's name shows on public content (reviews): the first character, then `**`, so
/// neither the name nor its length is given away to strangers.
pub fn public_name(name: &str) -> String {
    let first: String = name.chars().take(1).collect();
    format!("{first}**")
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

/// Digits with optional dashes and a leading `+`, 8 to 20 characters (e.g. `010-1234-5678`).
pub fn check_phone(phone: &str) -> Result<(), &'static str> {
    let mut chars = phone.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_digit() || c == '+');
    let rest_ok = chars.all(|c| c.is_ascii_digit() || c == '-');
    if first_ok && rest_ok && (8..=20).contains(&phone.len()) {
        Ok(())
    } else {
        Err("must be a phone number such as 010-1234-5678")
    }
}

/// Korean postal codes have five digits.
pub fn check_zip_code(zip: &str) -> Result<(), &'static str> {
    if zip.len() == 5 && zip.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("must be five digits")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_names_keep_only_the_first_character() {
        assert_eq!(public_name("김보리"), "김**");
        assert_eq!(public_name("Bori's human"), "B**");
        assert_eq!(public_name(""), "**");
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
    fn phones_and_zip_codes() {
        assert!(check_phone("010-1234-5678").is_ok());
        assert!(check_phone("+821012345678").is_ok());
        assert!(check_phone("call me").is_err());
        assert!(check_phone("12").is_err());
        assert!(check_zip_code("06236").is_ok());
        assert!(check_zip_code("6236").is_err());
    }

    #[test]
    fn emails_are_case_insensitive() {
        assert_eq!(normalize_email("  Bori@Example.COM "), "bori@example.com");
    }
}
