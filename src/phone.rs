//! A customer's phone number, normalised in one place: the Mini App's profile and checkout,
//! and the contact shared with the bot, all store `+` and 10–15 digits.

use std::fmt;

/// A phone number in international form: `+` and 10–15 digits (`+79991234567`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("a phone number has only digits, spaces and + - ( ) .")]
    Characters,
    #[error("a phone number has 10 to 15 digits with the country code, {0} given")]
    Length(usize),
}

impl Phone {
    /// What a person types: `+7 (999) 123-45-67` → `+79991234567`; a Russian `8…` trunk
    /// prefix (11 digits, no `+`) becomes `+7…`.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        if !input
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        {
            return Err(PhoneError::Characters);
        }
        let digits: String = input.chars().filter(char::is_ascii_digit).collect();
        let digits = match digits.strip_prefix('8') {
            Some(rest) if !input.trim_start().starts_with('+') && digits.len() == 11 => {
                format!("7{rest}")
            }
            _ => digits,
        };
        if !(10..=15).contains(&digits.len()) {
            return Err(PhoneError::Length(digits.len()));
        }
        Ok(Self(format!("+{digits}")))
    }

    /// A contact's `phone_number` from Telegram: international, often without the `+`
    /// (`79991234567`), so a leading 8 there is a country code, not a trunk prefix.
    pub fn from_telegram(phone_number: &str) -> Result<Self, PhoneError> {
        if phone_number.trim_start().starts_with('+') {
            Self::parse(phone_number)
        } else {
            Self::parse(&format!("+{phone_number}"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> Result<String, PhoneError> {
        Phone::parse(s).map(Phone::into_string)
    }

    #[test]
    fn typed_numbers() {
        assert_eq!(parsed("+7 (999) 123-45-67").as_deref(), Ok("+79991234567"));
        assert_eq!(parsed("+79991234567").as_deref(), Ok("+79991234567"));
        // The Russian trunk prefix.
        assert_eq!(parsed("8 999 123 45 67").as_deref(), Ok("+79991234567"));
        assert_eq!(parsed("8(999)123-45-67").as_deref(), Ok("+79991234567"));
        // With a +, an 8 is a country code (no country has it, but it is not rewritten).
        assert_eq!(parsed("+8 999 123 45 67").as_deref(), Ok("+89991234567"));
        assert_eq!(
            parsed("  +44 20 7946 0958 ").as_deref(),
            Ok("+442079460958")
        );
        assert_eq!(parsed("999.123.45.67").as_deref(), Ok("+9991234567"));
    }

    #[test]
    fn invalid_numbers() {
        assert_eq!(parsed("12345"), Err(PhoneError::Length(5)));
        assert_eq!(parsed(""), Err(PhoneError::Length(0)));
        assert_eq!(parsed("+1234567890123456"), Err(PhoneError::Length(16)));
        assert_eq!(parsed("+7 999 abc"), Err(PhoneError::Characters));
        assert_eq!(
            parsed("+7 999 123 45 67 ext. 5"),
            Err(PhoneError::Characters)
        );
        assert_eq!(parsed("+7٩٩٩1234567"), Err(PhoneError::Characters));
    }

    #[test]
    fn telegram_contacts() {
        let from = |s| Phone::from_telegram(s).map(Phone::into_string);
        assert_eq!(from("79991234567").as_deref(), Ok("+79991234567"));
        assert_eq!(from("+79991234567").as_deref(), Ok("+79991234567"));
        // No trunk-prefix rewrite for Telegram: its numbers are international.
        assert_eq!(from("89991234567").as_deref(), Ok("+89991234567"));
        assert!(from("123").is_err());
    }
}
